"""The browser web chat for trainers and desk staff: a static page talking to Rasa's socketio channel."""
