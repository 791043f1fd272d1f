"""TrainConfig: every impossible setting refused with the field named; the thesis's runs."""
from __future__ import annotations

import json

import pytest

from core.nets.config import ADDED_LATER, ConfigError, TrainConfig, thesis_runs


def test_defaults_are_valid_and_round_trip_through_json():
    config = TrainConfig().validate()
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_a_config_saved_before_a_setting_existed_keeps_what_its_run_did():
    """A run recorded before the recipe settings reads back with the thesis's method for
    them (constant rate, no early stop, ...), not with today's defaults."""
    saved = TrainConfig().to_dict()
    for name in ADDED_LATER:
        del saved[name]
    config = TrainConfig.from_dict(saved)
    assert {name: getattr(config, name) for name in ADDED_LATER} == ADDED_LATER
    assert config.key_normalisation is False and TrainConfig().key_normalisation is True


@pytest.mark.parametrize("field, value", [
    ("units", 0), ("units", -5), ("units", 4097), ("units", 1.5), ("units", True),
    ("layers", 0), ("layers", 9),
    ("window", 0), ("batch_size", 0), ("epochs", 0), ("embedding_dim", 0), ("dense_units", 0),
    ("cell", "rnn"), ("cell", "LSTM"),
    ("model", 3), ("model", 0),
    ("part", "drums"),
    ("objective", "beam"),
    ("dropout_layers", -1), ("dropout_layers", 3),  # the default has 2 layers
    ("dropout_rate", 1.0), ("dropout_rate", -0.1),
    ("learning_rate", 0.0), ("learning_rate", 2.0),
    ("max_pieces", -1),
    ("seed", 1.5),
])
def test_validate_refuses_with_the_field_named(field, value):
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{field: value}).validate()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")
    assert isinstance(info.value, ValueError)


def test_dropout_layers_may_not_exceed_layers():
    TrainConfig(layers=3, dropout_layers=3).validate()
    TrainConfig(layers=3, dropout_layers=0).validate()
    with pytest.raises(ConfigError) as info:
        TrainConfig(layers=1, dropout_layers=2).validate()
    assert info.value.field == "dropout_layers" and "layers (1)" in str(info.value)


def test_only_an_accompaniment_model_can_be_conditioned():
    TrainConfig(part="accompaniment", conditioned=True).validate()
    with pytest.raises(ConfigError) as info:
        TrainConfig(part="lead", conditioned=True).validate()
    assert info.value.field == "conditioned"


def test_from_dict_refuses_unknown_keys():
    data = TrainConfig().to_dict() | {"unitz": 64}
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(data)
    assert info.value.field == "unitz" and "unknown" in str(info.value)


def test_from_dict_validates():
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict({"cell": "transformer"})
    assert info.value.field == "cell"
    assert TrainConfig.from_dict({"cell": "gru", "units": 64}).units == 64


@pytest.mark.parametrize("scale", ["small", "full"])
def test_thesis_runs_are_the_four_of_tables_2_and_3(scale):
    runs = thesis_runs(1, "lead", scale)
    assert len(runs) == 4
    assert [(r.cell, r.layers) for r in runs] == [("lstm", 1), ("lstm", 3), ("lstm", 3),
                                                 ("gru", 3)]
    units = [r.units for r in runs]
    assert units[0] == units[1] == units[3] and units[2] == 2 * units[1]  # 512, 512, 1024, 512
    assert all(r.window == 32 and r.model == 1 and r.part == "lead" for r in runs)
    assert all(r.dropout_layers <= r.layers for r in runs)
    assert [r.label for r in runs] == [f"thesis run {i} ({scale})" for i in range(1, 5)]
    if scale == "full":
        assert units == [512, 512, 1024, 512] and all(r.epochs == 50 for r in runs)
    else:
        assert units == [64, 64, 128, 64] and all(r.epochs < 50 for r in runs)


def test_thesis_runs_for_model_2_accompaniment():
    runs = thesis_runs(2, "accompaniment", "small")
    assert len(runs) == 4 and all(r.model == 2 and r.part == "accompaniment" for r in runs)


def test_thesis_runs_refuse_an_unknown_scale():
    with pytest.raises(ConfigError) as info:
        thesis_runs(1, "lead", "huge")
    assert info.value.field == "scale"


@pytest.mark.parametrize("field_name, value", [("dropout_rate", "x"), ("seed", True),
                                               ("learning_rate", None), ("max_pieces", "3"),
                                               ("conditioned", 1)])
def test_wrong_types_are_refused_by_name(field_name, value):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**{field_name: value}).validate()
    assert err.value.field == field_name


def test_only_the_sequence_objective_has_a_training_window_of_its_own():
    with pytest.raises(ConfigError) as err:
        TrainConfig(objective="window", sequence_window=16).validate()
    assert err.value.field == "sequence_window"
    assert TrainConfig(objective="sequence", sequence_window=16).validate().train_window == 16
