"""Coverage-centric selection: the hardest cut, the score range covered evenly."""

import numpy as np
import pytest

from prunekd import EL2NPruner
from prunekd.pruning import CoverageCentricPruner, PrecomputedPruner
from prunekd.pruning._selection import coverage_select


def test_hardest_are_cut_and_every_stratum_gets_an_even_share():
    scores = np.arange(100.0)
    ccs = CoverageCentricPruner(PrecomputedPruner(scores), fraction=0.2, hard_cutoff=0.1,
                                n_strata=9, random_state=0)  # fmt: skip
    kept = ccs.fit_transform(np.zeros((100, 1)), np.zeros(100, dtype=int))
    assert len(kept) == 20 and kept.max() < 90  # the 10 hardest are never kept
    per_stratum = np.bincount(kept // 10, minlength=9)  # strata of width 89/9 ~ 10 scores
    assert per_stratum.sum() == 20 and set(per_stratum) <= {2, 3}
    # keeping the hardest 20 would take 80..99; CCS spreads over the range
    assert np.median(kept) < 60


def test_small_strata_are_taken_whole_and_the_budget_moves_on():
    # one stratum of 2 samples, one of 50: the small one is taken whole
    scores = np.r_[np.zeros(2), np.full(50, 10.0) + np.linspace(0, 1, 50)]
    picked = coverage_select(scores, 20, hard_cutoff=0.0, n_strata=2, tiebreak=np.arange(52))
    assert len(picked) == 20 and {0, 1} <= set(picked.tolist())


def test_the_cut_shrinks_when_the_budget_needs_the_samples():
    scores = np.arange(10.0)
    picked = coverage_select(scores, 9, hard_cutoff=0.5, n_strata=3, tiebreak=np.arange(10))
    assert picked.tolist() == list(range(9))  # only the single hardest can go


def test_mislabeled_samples_scored_hardest_are_cut(blobs):
    X, y = blobs
    flipped = np.array([0, 20, 40])
    y = y.copy()
    y[flipped] = (y[flipped] + 1) % 3
    common = dict(n_proxies=2, max_epochs=20, lr=0.05, batch_size=16, random_state=0)
    hardest = EL2NPruner(fraction=0.3, **common).fit_transform(X, y)
    assert set(flipped) <= set(hardest.tolist())  # keep="hard" keeps the label noise
    ccs = CoverageCentricPruner(EL2NPruner(**common), fraction=0.3, hard_cutoff=0.1,
                                n_strata=5, random_state=0).fit_transform(X, y)  # fmt: skip
    assert not set(flipped) & set(ccs.tolist())


def test_class_balanced_ccs_keeps_the_class_quotas():
    y = np.repeat([0, 1], [60, 40])
    scores = np.random.RandomState(0).rand(100)
    kept = CoverageCentricPruner(PrecomputedPruner(scores), fraction=0.2, class_balanced=True,
                                 n_strata=4, random_state=0).fit_transform(np.zeros((100, 1)), y)
    assert np.bincount(y[kept]).tolist() == [12, 8]


def test_the_selection_parameters_do_not_score_again(blobs, proxy_fits, tmp_path):
    X, y = blobs
    ccs = CoverageCentricPruner(EL2NPruner(n_proxies=1, max_epochs=1), random_state=0,
                                memory=tmp_path)  # fmt: skip
    for fraction, cutoff, strata in ((0.5, 0.1, 50), (0.2, 0.0, 5), (0.7, 0.3, 10)):
        ccs.set_params(fraction=fraction, hard_cutoff=cutoff, n_strata=strata).fit(X, y)
    assert len(proxy_fits) == 1
    ccs.set_params(pruner=EL2NPruner(n_proxies=1, max_epochs=2)).fit(X, y)
    assert len(proxy_fits) == 2  # another scorer


@pytest.mark.parametrize("params, match", [({"hard_cutoff": 1.0}, "hard_cutoff"),
                                           ({"n_strata": 0}, "n_strata"),
                                           ({"pruner": "el2n"}, "pruner")])
def test_bad_parameters_name_themselves(params, match):
    with pytest.raises(ValueError, match=match):
        CoverageCentricPruner(**params).fit(np.zeros((10, 1)), np.zeros(10, dtype=int))
