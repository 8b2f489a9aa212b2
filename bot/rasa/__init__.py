"""Rasa plug-ins: NLU components, the tracker store and the server entry point (they import Rasa)."""
