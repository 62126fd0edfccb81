"""The visual vocabulary: the seed generator assigns it, the renderer draws it.

Kept in the engine because it is part of a video's record, like its duration; it is plain data.
"""

from __future__ import annotations

# One motif per look; topics map onto motifs so a viewer recognises content at a glance.
MOTIFS: tuple[str, ...] = (
    "waves",  # water, travel, calm
    "bars",  # music, equalizer
    "spiral",  # dance, hypnotic
    "rain",  # ASMR, moody
    "stars",  # science, space
    "checker",  # gaming, retro
    "pulse",  # fitness, heartbeat
    "blobs",  # cooking, lava-lamp
    "stripes",  # fashion, sports
    "plasma",  # art, beauty
    "fire",  # comedy, hype, cars
    "grid",  # finance, tech, DIY
    "bubbles",  # pets, kids
    "leaves",  # cottagecore, garden
    "orbit",  # education, books
    "zigzag",  # pranks, chaos
)

# Three colours per palette: background, primary, accent.
PALETTES: tuple[tuple[str, str, str], ...] = (
    ("#0b132b", "#3a86ff", "#ffbe0b"),
    ("#1b1b2f", "#e43f5a", "#f9d56e"),
    ("#102a43", "#2ec4b6", "#ff9f1c"),
    ("#2d0320", "#ff006e", "#8338ec"),
    ("#0f2e1d", "#52b788", "#d8f3dc"),
    ("#2b2d42", "#8d99ae", "#ef233c"),
    ("#1d3557", "#a8dadc", "#e63946"),
    ("#3d0c02", "#ff7b00", "#ffd000"),
    ("#03045e", "#00b4d8", "#caf0f8"),
    ("#240046", "#9d4edd", "#ff9e00"),
    ("#081c15", "#95d5b2", "#ffe66d"),
    ("#22223b", "#c9ada7", "#f2e9e4"),
    ("#370617", "#dc2f02", "#faa307"),
    ("#001219", "#0a9396", "#ee9b00"),
    ("#2b2118", "#d4a373", "#fefae0"),
    ("#14213d", "#fca311", "#e5e5e5"),
    ("#0d1b2a", "#778da9", "#e0e1dd"),
    ("#3c096c", "#ff6d00", "#ff9100"),
    ("#1a1a1a", "#f72585", "#4cc9f0"),
    ("#04151f", "#26c485", "#f2f3ae"),
    ("#2c041c", "#f15bb5", "#fee440"),
    ("#0a0908", "#9e2a2b", "#e09f3e"),
    ("#011627", "#41ead4", "#ff206e"),
    ("#283618", "#dda15e", "#fefae0"),
)
