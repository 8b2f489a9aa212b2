"""Experiment hooks for `make bench` variants (never used by the bot itself).

Put bench/patches on PYTHONPATH (a bench variant's environment) and set:

- BENCH_SPACY_EXCLUDE=parser,bunsetu_recognizer,...  serve an existing model with those spaCy
  pipes *excluded* at load time (not loaded at all) instead of Rasa's
  `spacy.load(model, disable=["parser"])`: what a custom SpacyNLP that loads only the GiNZA
  components our pipeline uses would save, without retraining (the variant's NLU scores show
  whether the trained components depend on the excluded pipes).
- BENCH_CACHE_ACTION_SCHEMA=1  Rasa 3.6 validates every action-server response with
  `jsonschema.validate(result, schema)`, which re-checks the schema against its metaschema on
  every call; this builds the validator once and reuses it (same schema, same errors).

Modules are patched only when something imports them, so processes that never load them (the
action server) are unaffected.
"""
import importlib.abc
import importlib.machinery
import os
import sys

_SPACY_EXCLUDE = [name for name in os.environ.get("BENCH_SPACY_EXCLUDE", "").split(",") if name]
_CACHE_SCHEMA = os.environ.get("BENCH_CACHE_ACTION_SCHEMA") == "1"


def _patch_spacy(module):
    original_load = module.load

    def load(name, *args, **kwargs):
        disable = [pipe for pipe in (kwargs.pop("disable", None) or []) if pipe not in _SPACY_EXCLUDE]
        exclude = sorted(set(kwargs.pop("exclude", None) or []) | set(_SPACY_EXCLUDE))
        return original_load(name, *args, disable=disable, exclude=exclude, **kwargs)

    module.load = load


def _patch_rasa_action(module):
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for

    remote_action = module.RemoteAction
    validators = {}

    def _validate_action_result(self, result):
        schema = self.action_response_format_spec()
        key = repr(schema)  # action_response_format_spec() returns the same constant dict every time
        validator = validators.get(key)
        if validator is None:
            cls = validator_for(schema)
            cls.check_schema(schema)
            validator = validators[key] = cls(schema)
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, make sure your response from "
                "the Action endpoint is valid."
            )
            raise e

    remote_action._validate_action_result = _validate_action_result


_PATCHES = {}
if _SPACY_EXCLUDE:
    _PATCHES["spacy"] = _patch_spacy
if _CACHE_SCHEMA:
    _PATCHES["rasa.core.actions.action"] = _patch_rasa_action


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        patch = _PATCHES.get(fullname)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


if _PATCHES:
    sys.meta_path.insert(0, _PatchOnImport())
