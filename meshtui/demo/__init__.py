"""The demo cluster behind ``meshtui --demo``: an in-process API server, controllers and data plane."""
