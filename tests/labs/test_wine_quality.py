import math

import numpy as np
import pytest

from neuralab import labs
from neuralab.data import wine_quality_path
from neuralab.labs import wine_quality


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path):
    result, files = labs.run("wine-quality", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    assert result.data == wine_quality.SHIPPED
    assert result.n_samples == 1500 and result.n_features == 11 and result.folds == 3
    assert result.seeds == [0, 1, 2, 3, 4] and len(result.comparisons) == 5
    # Measured (seeds 0-9 under SkylakeX, seeds 0-4 also under Haswell and Sandybridge): the MLP
    # is 0.016-0.038 better in MAE (2.6-5.1 paired SEs, median of seeds 0-4: 4.05) and
    # 0.039-0.070 better in R^2.
    for c, s in zip(result.comparisons, result.per_seed):
        assert c.mae_gain == pytest.approx(s["linear"]["mae"] - s["mlp"]["mae"])
        assert c.mae_gain > 0.005 and c.r2_gain > 0.015, c
        assert 0.003 < c.mae_gain_se < 0.012, c
    assert np.median([c.z for c in result.comparisons]) > wine_quality.Z + 0.5
    # every model is far better than predicting the mean grade (R^2 = 0) and sensible in
    # Cortez's terms (MAD 0.45-0.6 in their study)
    for model, m in result.mean.items():
        assert 0.45 < m["mae"] < 0.65 and m["r2"] > 0.1, model
        assert 0.45 < m["acc_t05"] < m["acc_t10"] < 0.95, model
        for k in wine_quality.METRICS:
            assert result.low[model][k] <= m[k] <= result.high[model][k]
    assert set(result.predictions) == set(wine_quality.MODELS)
    assert len(result.y_true) == 1500
    # the shipped file: 4,898 white wines, 3,961 distinct rows, grade 6 the most common
    assert (result.n_rows, result.n_distinct, result.top_grade[0]) == (4898, 3961, 6.0)
    assert "ranking by MAE" in result.summary()
    for name in ("wine_quality_metrics.png", "wine_quality_predictions.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    assert {"wine_quality_metrics.png", "wine_quality_predictions.png"} <= {f.name for f in files}


def test_metrics_are_the_library_metrics_of_the_out_of_fold_predictions():
    from sklearn.metrics import mean_absolute_error, r2_score

    config = wine_quality.Config(folds=3, subset=300, models=("linear",), seeds=(1,))
    result = wine_quality.run(config)
    y, pred = np.asarray(result.y_true), np.asarray(result.predictions["linear"])
    # each fold has 100 samples, so the mean of fold MAEs is the MAE of all predictions
    assert result.mean["linear"]["mae"] == pytest.approx(mean_absolute_error(y, pred), abs=1e-4)
    assert result.mean["linear"]["r2"] == pytest.approx(
        np.mean([r2_score(y[f], pred[f]) for f in _folds(config, len(y))]), abs=1e-4)
    assert result.comparisons == [] and not result.claim_holds   # no MLP, no claim


def test_paired_standard_error_is_that_of_the_per_wine_differences():
    config = wine_quality.Config(folds=2, subset=200, models=("mlp", "linear"), seeds=(0,),
                                 epochs=3, patience=2)
    result = wine_quality.run(config)
    y = np.asarray(result.y_true)
    d = (np.abs(y - np.asarray(result.predictions["linear"]))
         - np.abs(y - np.asarray(result.predictions["mlp"])))
    # predictions are stored rounded to 3 decimals, so the recomputed SE differs in the 4th
    assert result.comparisons[0].mae_gain_se == pytest.approx(
        d.std(ddof=1) / math.sqrt(len(d)), abs=1e-3)


def _folds(config, n):
    from neuralab.data import KFold

    seed = config.seeds[0]
    return [va for _, va in KFold(config.folds, shuffle=True, rng=seed).split(range(n))]


def test_the_shipped_data_is_the_default_and_csv_overrides_it(tmp_path):
    assert wine_quality.data_path("") == wine_quality_path()
    # another CSV of the same form: the first 120 rows of the shipped file
    lines = wine_quality_path().read_text(encoding="utf-8").splitlines()
    small = tmp_path / "few-wines.csv"
    small.write_text("\n".join(lines[:121]) + "\n", encoding="utf-8")
    config = wine_quality.Config(csv=str(small), folds=2, models=("linear",), seeds=(0,))
    result = wine_quality.run(config)
    assert result.data == str(small) and result.n_samples == 120 and result.n_rows == 120


def test_bad_settings_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="--set csv=PATH"):
        wine_quality.run(wine_quality.Config(csv=str(tmp_path / "nope.csv")))
    with pytest.raises(ValueError, match="unknown model"):
        wine_quality.run(wine_quality.Config(models=("mlp", "xgboost")))
    with pytest.raises(ValueError, match="distinct `seeds`"):
        wine_quality.run(wine_quality.Config(seeds=()))
    with pytest.raises(ValueError, match="`subset` between 10 and 4898"):
        wine_quality.run(wine_quality.Config(subset=5))
