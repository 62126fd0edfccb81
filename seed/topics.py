"""The static topic catalog: which short-video scenes exist and how they relate.

Everything about a topic that a person would recognise is written by hand here (names, hashtags,
neighbours, look, the nouns its captions talk about); only the embedding centroids are random,
and those are built in ``seed.embeddings``. ``related`` is symmetric by construction (checked by
the tests) so "FitTok is near Sports" also means "Sports is near FitTok".

Weights are raw audience sizes; ``topic_popularity`` normalises them. ``energy`` is the base
animation speed (a dance video moves faster than ASMR) and ``sensitivity`` the relative chance a
video in the topic is marked sensitive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.visuals import MOTIFS
from engine.world import F32


@dataclass(frozen=True)
class TopicEntry:
    """One hand-written topic."""

    name: str
    slug: str
    weight: float
    tags: tuple[str, ...]  # most used first: the draw prefers earlier tags (Zipf-like)
    related: tuple[str, ...]
    motif: str
    energy: float
    things: tuple[str, ...]  # nouns captions talk about
    sensitivity: float = 1.0


def _entry(
    name: str,
    slug: str,
    *,
    weight: float,
    motif: str,
    energy: float,
    tags: str,
    related: str,
    things: str,
    sensitivity: float = 1.0,
) -> TopicEntry:
    # Space- and semicolon-separated strings keep the catalog one screen per topic.
    return TopicEntry(
        name=name,
        slug=slug,
        weight=weight,
        tags=tuple(tags.split()),
        related=tuple(related.split()),
        motif=motif,
        energy=energy,
        things=tuple(thing.strip() for thing in things.split(";")),
        sensitivity=sensitivity,
    )


CATALOG: tuple[TopicEntry, ...] = (
    _entry(
        "FitTok",
        "fittok",
        weight=5.0,
        motif="pulse",
        energy=1.6,
        tags="fittok gymtok workout gym fitness legday gains homeworkout gymrat pilates",
        related="sports motivation cooking",
        things="leg day; 5am workout; protein shake; deadlift PR; gym crush; pull-up; rest day",
    ),
    _entry(
        "BookTok",
        "booktok",
        weight=3.0,
        motif="orbit",
        energy=0.7,
        tags="booktok books bookrecs reading bookish romancebooks fantasybooks tbr bookhaul",
        related="education cottagecore storytime anime",
        things=(
            "enemies to lovers book; plot twist; reading slump; TBR pile; book haul; "
            "annotated copy; fantasy series"
        ),
    ),
    _entry(
        "CottageCore",
        "cottagecore",
        weight=1.5,
        motif="leaves",
        energy=0.6,
        tags=(
            "cottagecore cottagelife slowliving cottagestyle homestead baking sourdough countryside"
        ),
        related="booktok gardening cooking plantparents",
        things=(
            "sourdough loaf; linen dress; wildflower bouquet; jam jar; morning routine; "
            "picnic basket"
        ),
    ),
    _entry(
        "MomsOfTikTok",
        "momsoftiktok",
        weight=4.0,
        motif="bubbles",
        energy=1.1,
        tags="momsoftiktok momlife momtok parenting toddlers momhacks sahm newmom familytime",
        related="relationships cooking comedy pets",
        things="toddler meltdown; school run; lunchbox; bedtime routine; mom hack; nap time",
    ),
    _entry(
        "Cooking",
        "cooking",
        weight=6.0,
        motif="blobs",
        energy=1.0,
        tags=(
            "cooking recipe foodtok easyrecipe dinnerideas mealprep airfryer pasta "
            "homecooking cheflife"
        ),
        related="fittok cottagecore momsoftiktok foodreviews",
        things=(
            "air fryer recipe; 15-minute pasta; meal prep; garlic butter; ramen hack; one-pot"
            " dinner; knife skills"
        ),
    ),
    _entry(
        "Food reviews",
        "foodreviews",
        weight=4.0,
        motif="blobs",
        energy=1.2,
        tags="foodreview foodie tastetest mukbang streetfood fastfood restaurantreview foodcritic",
        related="cooking travel comedy",
        things=(
            "secret menu; street food stall; spicy noodle; drive-thru order; taste test; "
            "hidden gem restaurant"
        ),
    ),
    _entry(
        "Comedy",
        "comedy",
        weight=10.0,
        motif="fire",
        energy=1.4,
        tags="comedy funny humor skit relatable lol memes standup funnyvideos jokes",
        related="momsoftiktok foodreviews pranks pets",
        things="group chat; Monday meeting; sibling fight; awkward moment; impression; bad date",
    ),
    _entry(
        "Dance",
        "dance",
        weight=8.0,
        motif="spiral",
        energy=2.0,
        tags="dance dancechallenge dancetok choreography dancer dancetrend hiphopdance shuffle",
        related="music kpop",
        things="choreo; dance trend; footwork; transition; freestyle; duet",
    ),
    _entry(
        "Pets",
        "pets",
        weight=7.0,
        motif="bubbles",
        energy=1.2,
        tags=(
            "pets dogsoftiktok catsoftiktok puppy kitten dogtok cattok petlife "
            "goldenretriever rescuedog"
        ),
        related="comedy momsoftiktok",
        things="zoomies; rescue puppy; cat tax; dog walk; bath time; treat reaction",
    ),
    _entry(
        "Gaming",
        "gaming",
        weight=6.0,
        motif="checker",
        energy=1.5,
        tags=(
            "gaming gamer gamingclips minecraft fortnite valorant ps5 nintendo speedrun gamingsetup"
        ),
        related="anime tech",
        things="clutch play; boss fight; speedrun; gaming setup; rage quit; ranked match",
    ),
    _entry(
        "DIY",
        "diy",
        weight=3.0,
        motif="grid",
        energy=0.9,
        tags=(
            "diy diyproject homeimprovement woodworking upcycling diyhome renovation crafts "
            "homedecor"
        ),
        related="gardening art vanlife satisfying",
        things="room makeover; shelf build; thrift flip; epoxy table; wall panel; budget upgrade",
    ),
    _entry(
        "Beauty",
        "beauty",
        weight=5.0,
        motif="plasma",
        energy=1.0,
        tags="beauty makeup makeuptutorial grwm beautytok makeuphacks eyeliner lipcombo makeuplook",
        related="skincare fashion art",
        things="winged liner; lip combo; blush trick; full glam; 5-minute face; drugstore dupe",
    ),
    _entry(
        "Skincare",
        "skincare",
        weight=2.5,
        motif="plasma",
        energy=0.7,
        tags="skincare skincareroutine skintok glowup acne sunscreen kbeauty retinol selfcare",
        related="beauty fashion asmr",
        things="night routine; SPF; serum; glass skin; acne journey; face mask",
    ),
    _entry(
        "Fashion",
        "fashion",
        weight=5.0,
        motif="stripes",
        energy=1.3,
        tags=(
            "fashion ootd outfitideas styletok thrifting streetwear outfitcheck fashiontok "
            "capsulewardrobe"
        ),
        related="beauty skincare photography",
        things="outfit; thrift haul; fit check; capsule wardrobe; styling hack; vintage jacket",
    ),
    _entry(
        "Photography",
        "photography",
        weight=1.2,
        motif="stars",
        energy=0.8,
        tags=(
            "photography photographer phototips filmphotography portrait streetphotography "
            "goldenhour camera"
        ),
        related="art travel fashion",
        things="golden hour shot; film camera; portrait setup; phone photo trick; lens; photo edit",
    ),
    _entry(
        "Travel",
        "travel",
        weight=3.0,
        motif="waves",
        energy=0.9,
        tags=(
            "travel traveltok wanderlust traveltips bucketlist solotravel backpacking "
            "hiddengems roadtrip"
        ),
        related="foodreviews vanlife photography",
        things=(
            "hidden beach; packing hack; airport fit; solo trip; cheap flight; view from the hotel"
        ),
    ),
    _entry(
        "Van life",
        "vanlife",
        weight=0.7,
        motif="waves",
        energy=0.7,
        tags="vanlife vanbuild nomad offgrid camperlife tinyhome roadlife overlanding",
        related="travel diy cars",
        things="van build; campsite; solar setup; tiny kitchen; off-grid shower; morning view",
    ),
    _entry(
        "Science",
        "science",
        weight=2.0,
        motif="stars",
        energy=0.9,
        tags="science sciencetok physics chemistry space experiment biology astronomy",
        related="education tech",
        things="experiment; black hole; chemical reaction; space fact; lab test; physics trick",
    ),
    _entry(
        "Education",
        "education",
        weight=2.0,
        motif="orbit",
        energy=0.8,
        tags=(
            "learnontiktok edutok studytok didyouknow history studytips languagelearning lifehacks"
        ),
        related="science booktok finance truecrime",
        things="study method; history fact; language tip; exam hack; math trick; memory technique",
    ),
    _entry(
        "Tech",
        "tech",
        weight=2.0,
        motif="grid",
        energy=1.0,
        tags="tech techtok gadgets iphone coding ai setup techreview programming",
        related="gaming science finance cars",
        things="desk setup; new phone; coding bug; AI tool; gadget; keyboard",
    ),
    _entry(
        "Sports",
        "sports",
        weight=4.0,
        motif="stripes",
        energy=1.7,
        tags="sports sportstok athlete highlights training running tennis boxing golf",
        related="fittok football basketball motivation",
        things="game winner; training drill; marathon; buzzer beater; trick shot; personal best",
    ),
    _entry(
        "Football",
        "football",
        weight=5.0,
        motif="stripes",
        energy=1.8,
        tags="football soccer futbol goal premierleague skills freekick footballtiktok worldcup",
        related="sports basketball",
        things="free kick; last-minute goal; skill move; match day; stadium vlog; goalkeeper save",
    ),
    _entry(
        "Basketball",
        "basketball",
        weight=2.5,
        motif="stripes",
        energy=1.8,
        tags="basketball nba hoops ballislife dunk streetball crossover hooper",
        related="sports football",
        things="dunk; crossover; half-court shot; pickup game; ankle breaker; NBA take",
    ),
    _entry(
        "Music",
        "music",
        weight=6.0,
        motif="bars",
        energy=1.4,
        tags="music newmusic singing cover guitar producer musician piano songwriter rap",
        related="dance kpop art",
        things="cover; beat drop; guitar riff; high note; studio session; original song",
    ),
    _entry(
        "K-pop",
        "kpop",
        weight=3.0,
        motif="bars",
        energy=1.7,
        tags="kpop kpopdance bts blackpink stan kpopfyp idol kdrama",
        related="dance music anime",
        things="comeback; fancam; dance break; lightstick; photocard; concert",
    ),
    _entry(
        "ASMR",
        "asmr",
        weight=2.5,
        motif="rain",
        energy=0.5,
        tags="asmr asmrsounds tingles relaxing whisper tapping asmrfood sleepaid",
        related="satisfying skincare cleantok",
        things="tapping; whisper; crunch; soap cutting; brushing sounds; rain sounds",
    ),
    _entry(
        "Oddly satisfying",
        "satisfying",
        weight=2.5,
        motif="spiral",
        energy=0.8,
        tags=(
            "satisfying oddlysatisfying slime kineticsand restock organizing pressurewash "
            "satisfyingvideo"
        ),
        related="asmr diy cleantok",
        things="slime; kinetic sand; fridge restock; pressure wash; perfect fit; paint pour",
    ),
    _entry(
        "CleanTok",
        "cleantok",
        weight=1.5,
        motif="bubbles",
        energy=0.9,
        tags=(
            "cleantok cleaning cleaningmotivation cleanwithme declutter cleaninghacks "
            "resetday laundry"
        ),
        related="satisfying asmr",
        things="deep clean; sink reset; laundry day; declutter; bathroom scrub; Sunday reset",
    ),
    _entry(
        "Cars",
        "cars",
        weight=2.0,
        motif="fire",
        energy=1.5,
        tags="cars cartok carsoftiktok jdm supercars carmods detailing drift carcommunity",
        related="tech vanlife",
        things="exhaust sound; car wash; mod; drift; supercar; first car",
    ),
    _entry(
        "FinTok",
        "finance",
        weight=2.0,
        motif="grid",
        energy=0.8,
        tags="fintok personalfinance money investing budgeting stocks sidehustle moneytips savings",
        related="tech motivation education",
        things="budget; side hustle; index fund; paycheck; savings challenge; credit score",
    ),
    _entry(
        "Art",
        "art",
        weight=2.0,
        motif="plasma",
        energy=0.9,
        tags="art arttok drawing painting artist sketchbook digitalart arttutorial procreate",
        related="diy beauty photography music",
        things="sketchbook tour; oil painting; speedpaint; portrait; art supply; mural",
    ),
    _entry(
        "Gardening",
        "gardening",
        weight=1.2,
        motif="leaves",
        energy=0.6,
        tags=(
            "gardening gardentok growyourownfood vegetablegarden garden composting raisedbeds"
            " harvest"
        ),
        related="cottagecore plantparents diy",
        things="tomato harvest; raised bed; compost; seedling; garden tour; weeding",
    ),
    _entry(
        "Plant parents",
        "plantparents",
        weight=0.8,
        motif="leaves",
        energy=0.5,
        tags=(
            "plantparent planttok houseplants monstera plantcare urbanjungle propagation plantshelf"
        ),
        related="gardening cottagecore",
        things="monstera; propagation; repotting; new leaf; plant shelf; watering day",
    ),
    _entry(
        "Anime",
        "anime",
        weight=3.0,
        motif="spiral",
        energy=1.5,
        tags="anime animetok manga otaku animeedit cosplay onepiece animerecommendations weeb",
        related="gaming kpop booktok",
        things="anime edit; cosplay; manga panel; opening song; plot armor; waifu debate",
    ),
    _entry(
        "Pranks",
        "pranks",
        weight=3.0,
        motif="zigzag",
        energy=1.9,
        tags="prank pranks prankwars couplepranks pranked scareprank prankvideo hiddencamera",
        related="comedy relationships",
        things="scare prank; fake spider; prank war; hidden camera; revenge prank; roommate",
        sensitivity=2.0,
    ),
    _entry(
        "Relationships",
        "relationships",
        weight=3.0,
        motif="fire",
        energy=1.1,
        tags=(
            "relationships couples couplegoals datingadvice boyfriend girlfriend redflags "
            "situationship datingtips"
        ),
        related="momsoftiktok pranks storytime",
        things="first date; red flag; situationship; anniversary; text message; ex",
        sensitivity=1.5,
    ),
    _entry(
        "Motivation",
        "motivation",
        weight=2.0,
        motif="pulse",
        energy=1.2,
        tags=(
            "motivation mindset selfimprovement discipline grindset motivationalquotes "
            "success thatgirl"
        ),
        related="fittok finance sports",
        things="morning routine; 5am habit; mindset shift; journal prompt; goal; comeback story",
    ),
    _entry(
        "Horror & StoryTime",
        "storytime",
        weight=2.5,
        motif="rain",
        energy=0.7,
        tags="storytime scarystories horrortok creepy paranormal ghost horrorstories urbanlegend",
        related="booktok relationships truecrime",
        things=(
            "haunted house; creepy neighbour; 3am noise; ghost story; abandoned mall; worst "
            "roommate"
        ),
        sensitivity=4.0,
    ),
    _entry(
        "True crime",
        "truecrime",
        weight=1.5,
        motif="rain",
        energy=0.6,
        tags="truecrime crimetok unsolved coldcase mystery truecrimetok detective documentary",
        related="storytime education",
        things="cold case; unsolved mystery; new evidence; documentary; timeline; suspect",
        sensitivity=6.0,
    ),
)


def topic_popularity() -> F32:
    """Return each topic's share of the audience, summing to 1, in catalog order."""
    weights = np.array([entry.weight for entry in CATALOG], dtype=np.float64)
    return (weights / float(weights.sum())).astype(np.float32)


def topic_index() -> dict[str, int]:
    """Map each slug to its topic id (catalog position)."""
    return {entry.slug: i for i, entry in enumerate(CATALOG)}


def related_ids() -> list[list[int]]:
    """Return each topic's related topic ids, in the order the catalog lists them."""
    index = topic_index()
    return [[index[slug] for slug in entry.related] for entry in CATALOG]


def check_catalog() -> None:
    """Verify the hand-written catalog's invariants.

    Raises:
        ValueError: if a motif is unknown, a related slug is missing or one-sided, a tag is
            shared by two topics, or a tag is too long to fit six in a caption.
    """
    index = topic_index()
    seen_tags: set[str] = set()
    for entry in CATALOG:
        if entry.motif not in MOTIFS:
            raise ValueError(f"{entry.slug}: unknown motif {entry.motif!r}")
        for slug in entry.related:
            if slug not in index or entry.slug not in CATALOG[index[slug]].related:
                raise ValueError(f"{entry.slug}: relation to {slug!r} is not symmetric")
        for tag in entry.tags:
            if tag in seen_tags or len(tag) > 20:
                raise ValueError(f"{entry.slug}: tag {tag!r} is duplicated or too long")
            seen_tags.add(tag)
