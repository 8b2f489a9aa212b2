"""Chat channels of the consultation bot, loaded by Rasa from credentials.yml.

- bot.channels.rest.ProtectedRestInput  -> /webhooks/rest/webhook  (bearer token, validation, custom.kasuhara)
- bot.channels.teams.TeamsInput         -> /webhooks/teams/webhook (Microsoft Teams via Azure Bot)
- bot.channels.slack.SlackEventsInput   -> /webhooks/slack/webhook (Slack Events API + interactivity)
- bot.channels.payload.reply_metadata   the machine-readable state sent with REST replies

The modules import Rasa; this package does not, so `bot` stays importable without it.
"""
