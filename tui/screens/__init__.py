"""The app's screens, each with its .tcss beside it: they show what the app hands them."""
