// Parses and validates Adaptive Cards with Microsoft's own library (npm `adaptivecards`, the
// renderer Teams is built on). stdin: a JSON list of cards; stdout: a JSON list with, per card,
// the library's parse and validation messages (an empty list when the card is valid).
"use strict";
const AC = require("adaptivecards/dist/adaptivecards.js");

let input = "";
process.stdin.on("data", function (chunk) { input += chunk; });
process.stdin.on("end", function () {
  const results = JSON.parse(input).map(function (json) {
    const card = new AC.AdaptiveCard();
    const context = new AC.SerializationContext();
    card.parse(json, context);
    const messages = [];
    for (let i = 0; i < context.eventCount; i++) messages.push(context.getEventAt(i).message);
    (card.validateProperties().validationEvents || []).forEach(function (event) { messages.push(event.message); });
    return messages;
  });
  process.stdout.write(JSON.stringify(results));
});
