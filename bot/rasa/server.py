"""`python -m bot.rasa.server run …`: Rasa's own command line, with the project's serving fixes.

Takes the same arguments as `rasa` (scripts/run.sh and `make bench` start the Rasa server this
way). Before Rasa's command line runs, it:

- validates action-server replies against a JSON-schema validator built once
  (see `validate_action_replies_with_one_validator`);
- loads DIET/TED models straight into their prediction graph
  (see `load_tensorflow_models_for_prediction`).

Each measured in bench/ (bench/README.md, bench/profile/).
"""
from __future__ import annotations

import sys
from typing import Any, Dict

from bot.rasa import guards


def validate_action_replies_with_one_validator() -> None:
    """Rasa checks every action-server reply with `jsonschema.validate()`, which first checks the
    schema itself against the JSON-Schema meta-schema — on every call. That was about 40 % of the
    Rasa server's CPU time at 8 concurrent conversations (bench/profile/1-start-top-ours-8.md). Same
    schema, same errors, validator built once."""
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


def load_tensorflow_models_for_prediction() -> None:
    """To give a saved DIET/TED model its variables, Rasa trains a fresh one on one example — which
    traces the whole training graph (loss, gradients, optimizer) — then overwrites the variables
    with the saved weights. That was most of the server's start-up time and a part of its memory
    (model load 86 → 19 s, −450 MB; bench/README.md). A server only predicts: restore the saved
    weights into the variables the prediction graph creates. Fine-tuning, and models saved without
    a prediction example, load as before."""
    from rasa.utils.tensorflow.models import RasaModel

    load_by_training_one_step = RasaModel.load.__func__

    def load(
        cls: type,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if finetune_mode or predict_data_example is None:
            return load_by_training_one_step(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        # Deferred restoration: each saved variable is restored when the prediction graph creates
        # it; the optimizer's saved state is not needed for prediction.
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)
        return model

    RasaModel.load = classmethod(load)


def main() -> None:
    validate_action_replies_with_one_validator()
    load_tensorflow_models_for_prediction()
    guards.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
