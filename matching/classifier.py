"""The pair classifier: Fellegi-Sunter weights estimated from the data, refined by labels,
chosen by log loss.

dedupe's default classifier is a ``GridSearchCV`` over ``LogisticRegression(C)`` scored by F1
on the labels alone. With easy labels (a "distinct" pair is two random customers) every C
reaches F1 = 1.0, the strongest regularization wins and every score collapses to about 0.5; with
ten labels there is too little to learn from at all. This classifier keeps dedupe's interface
(``fit(X, y)``, ``predict_proba(X)``; it is ``deduper.classifier``) and works in two steps:

1. **From the data, no labels needed** (``prepare``): each comparison of
   ``matching.comparisons`` gives a pair a level (same, nickname, typo, …, different). How often
   each level happens between two random customers (``u``) is counted on random pairs; how often
   it happens between two records of one customer (``m``), and the share of such pairs among the
   candidates (``λ``), are estimated by expectation-maximization on the candidate pairs of the
   standard blocking rules, as Splink does. A pair's log-odds is then
   ``log λ/(1-λ) + Σ log m/u`` over its comparisons (missing values count nothing).
2. **From the labels** (``fit``): a logistic regression that starts from those weights: one
   factor on the summed weight (kept near 1) and a correction per level (kept near 0), with the
   strength of that pull chosen by cross-validated **log loss**, a proper scoring rule, so the
   scores stay probabilities. With few or easy labels the corrections stay small; with many,
   they take over where the data's own estimate was wrong. Labelled matches also count towards
   ``m`` in step 1.

``X`` is dedupe's distance matrix; the classifier reads only the comparisons' columns (a level,
and dedupe's "value present" column for each).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

EM_ITERATIONS = 60
LABEL_STRENGTHS = (0.03, 0.3, 3.0, 30.0)  # C: the inverse of the pull towards the data's weights
# the weakest pull a label set may choose: C <= labels / LABELS_PER_STRENGTH (the first always
# allowed). Ten labels are often separable: held-out log loss then falls with every weaker pull
# (seed_demo, a steward's 10 answers: 0.09 → 0.0008 from C 0.03 to 30) while recall on the
# whole data fell from 0.98 to 0.88: corrections fitted to 10 pairs do not hold for 5,000.
LABELS_PER_STRENGTH = 30
PROBABILITY_FLOOR = 1e-6
PENALTY = 4.0  # log-odds against one person, once what the shared data added is cancelled
# Levels whose weight is set, not estimated: {comparison: {level: the comparisons whose
# agreement (level 0) it cancels}}; its weight is minus those weights minus ``PENALTY``.
# - one household (same family name and address, another given name): random pairs almost
#   never share a family name and an address, so the data would make "one household" look like
#   strong evidence of one person; it is not.
# - another legal registration (two organizations' VAT ids or company numbers differ): two
#   companies of one name share a domain's info@ mailbox and a name, however rare that looks
#   between random records (at 100,000 generated customers, 88 % of the false pairs).
FIXED_LEVELS: dict[str, dict[int, tuple[str, ...]]] = {
    "cmp:household": {0: ("cmp:family", "cmp:address")},
    "cmp:identifier": {3: ("cmp:organization", "cmp:email", "cmp:phone", "cmp:address")},
}
# Levels whose u is measured among one rule's pairs, not random pairs ({comparison: {level:
# rule code}}, see ``_conditional_u``): at 1,000,000 generated customers, strangers of one
# common name share "robert_ruiz@gmail.com"; random pairs made that look like proof. At 100,000,
# two Joshua Ross at joshua.ross@gmail.com and joshua.ross@outlook.com (level 2, "same name at
# another domain") were two thirds of the false pairs: that level follows from the name too.
CONDITIONAL_U: dict[str, dict[int, str]] = {"cmp:email": {1: "gf", 2: "gf"}}
FIXED = frozenset({"cmp:household"})  # comparisons with every level set (EM leaves them out)
# levels that never weigh more than a weaker one (by comparison: {level: weaker level}). Capping
# swapped names at "similar" ("Richard Williams" / "William Richards", two real names) cost
# FEBRL1 and FEBRL4 recall (their duplicates swap fields), so none is capped today.
CAPPED_AT: dict[str, dict[int, int]] = {}  # comparisons whose weight is set, not estimated


@dataclass(frozen=True)
class Column:
    name: str
    levels: int
    value: int  # the level's column in X
    present: int  # dedupe's "not missing" column in X


def columns_of(data_model, comparisons) -> list[Column]:
    """Where each comparison's level and "present" flag sit in dedupe's distance matrix."""
    names = [variable.name for variable in data_model.field_variables]
    missing = list(data_model._missing_field_indices)
    base = len(data_model) - len(missing)
    columns = []
    for comparison in comparisons:
        index = names.index(comparison.name)
        columns.append(Column(comparison.name, len(comparison.levels), index, base + missing.index(index)))
    return columns


class EvidenceClassifier:
    """See the module docstring. ``prepare`` before ``fit``; picklable (stored in the model)."""

    def __init__(self, columns: list[Column]) -> None:
        self.columns = columns
        self.u = [np.full(c.levels, 1.0 / c.levels) for c in columns]
        self.m = [np.full(c.levels, 1.0 / c.levels) for c in columns]
        self.prior = 0.1
        self.scale = 1.0
        self.corrections = [np.zeros(c.levels) for c in columns]
        self.strength: float | None = None
        self.report: dict = {}
        self.classes_ = np.array([0, 1])
        self.fixed: dict[int, dict[int, float]] = {}  # column → level → set weight (see _fix)

    # -- levels ---------------------------------------------------------------------------
    def levels(self, X: np.ndarray) -> np.ndarray:
        """(n, comparisons) integer levels, -1 where a value is missing."""
        X = np.asarray(X)
        out = np.empty((len(X), len(self.columns)), dtype=np.int16)
        for j, c in enumerate(self.columns):
            present = X[:, c.present] > 0.5
            out[:, j] = np.where(present, np.clip(np.nan_to_num(X[:, c.value]), 0, c.levels - 1), -1)
        return out

    def _table(self, weights: list[np.ndarray]) -> list[np.ndarray]:
        return [np.append(w, 0.0) for w in weights]  # index -1 (missing) reads the 0 at the end

    def _sum(self, L: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
        tables = self._table(weights)
        total = np.zeros(len(L))
        for j, table in enumerate(tables):
            total += table[L[:, j]]
        return total

    def weights(self) -> list[np.ndarray]:
        """log m/u per comparison and level, from the data (or set, see ``_fix``)."""
        out = []
        for j, (m, u) in enumerate(zip(self.m, self.u, strict=True)):
            w = (
                np.zeros(len(m))
                if self.columns[j].name in FIXED
                else np.log(np.maximum(m, PROBABILITY_FLOOR) / np.maximum(u, PROBABILITY_FLOOR))
            )
            out.append(self._set_levels(j, w))  # (a model stored before: an array, every level)
        return out

    def _conditional_u(self, sessions: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
        """u of the ``CONDITIONAL_U`` levels: how often two *different* customers show the level
        among the pairs of a rule that agree on what the level depends on (an address spelled
        from the name, among pairs of one name), not among random pairs, which almost never
        share a name and so never show it. EM on that rule's pairs (which leaves the level's
        comparison out) says which of them are different customers (weights 1 - p)."""
        names = [c.name for c in self.columns]
        report = {}
        for name, levels in CONDITIONAL_U.items():
            if name not in names:
                continue
            j = names.index(name)
            for level, rule in levels.items():
                if rule not in sessions:
                    continue
                L, p = sessions[rule]
                seen = L[:, j] >= 0
                others = (1 - p)[seen]
                if others.sum() < 1:
                    continue
                u = float((others * (L[seen, j] == level)).sum() + 0.1) / float(others.sum() + 0.1)
                self.u[j][level] = max(float(self.u[j][level]), u)
                report[f"{name}:{level}"] = {"rule": rule, "u": round(u, 6)}
        return report

    def _set_levels(self, j: int, w: np.ndarray) -> np.ndarray:
        levels = getattr(self, "fixed", {}).get(j, {})
        if not levels:
            return w
        w = w.copy()
        for level, weight in levels.items() if isinstance(levels, dict) else enumerate(levels):
            if level < len(w):
                w[level] = weight
        return w

    def _fix(self) -> None:
        """Set the weights of ``FIXED_LEVELS``: each cancels what agreement on the comparisons
        it names added (their level-0 weights from the data) and counts ``PENALTY`` against."""
        names = [c.name for c in self.columns]
        self.fixed = {}
        weights = self.weights()
        for name, levels in FIXED_LEVELS.items():
            if name not in names:
                continue
            set_levels = {}
            for level, cancelled in levels.items():
                shared = sum(
                    max(float(weights[names.index(other)][0]), 0.0) for other in cancelled if other in names
                )
                set_levels[level] = -shared - PENALTY
            self.fixed[names.index(name)] = set_levels

    # -- step 1: the data -------------------------------------------------------------------
    def _em(
        self, C: np.ndarray, M: np.ndarray, active: np.ndarray, prior: float, update_m: bool = True
    ) -> tuple[float, list[np.ndarray], int]:
        """EM over candidate pairs ``C`` (levels) with u fixed: the share of matches and, if
        ``update_m``, m of the ``active`` comparisons (the others are left out of the
        likelihood: the pairs were chosen for agreeing on them)."""
        m = [x.copy() for x in self.m]
        iterations = 0
        for iterations in range(1, EM_ITERATIONS + 1):  # noqa: B007
            weights = [
                w if on else np.zeros_like(w)
                for w, on in zip(
                    [
                        np.log(np.maximum(mm, PROBABILITY_FLOOR) / np.maximum(u, PROBABILITY_FLOOR))
                        for mm, u in zip(m, self.u, strict=True)
                    ],
                    active,
                    strict=True,
                )
            ]
            if not update_m:  # the share of matches, with the set levels as scores use them
                weights = [self._set_levels(j, w) for j, w in enumerate(weights)]
            p = expit(math.log(prior / (1 - prior)) + self._sum(C, weights))
            new_prior = float(np.clip(p.mean(), 1e-6, 1 - 1e-6)) if len(p) else prior
            change = abs(new_prior - prior)
            prior = new_prior
            if update_m:
                for j, c in enumerate(self.columns):
                    if not active[j]:
                        continue
                    seen = C[:, j] >= 0
                    counts = np.bincount(C[seen, j], weights=p[seen], minlength=c.levels)
                    labelled = M[:, j][M[:, j] >= 0]
                    counts += np.bincount(labelled, minlength=c.levels)
                    new = (counts + 0.01) / (counts.sum() + 0.01 * c.levels)
                    change = max(change, float(np.abs(new - m[j]).max()))
                    m[j] = new
            if change < 1e-5:
                break
        self._last_p = p if iterations else np.empty(0)
        return prior, m, iterations

    def prepare(
        self,
        sessions: dict[str, tuple[np.ndarray, tuple[str, ...]]],
        candidates: np.ndarray,
        random_pairs: np.ndarray,
        *,
        candidates_total: int,
        pairs_total: int,
        parties: int | None = None,
        matches: np.ndarray | None = None,
    ) -> None:
        """Learn the weights from the data, as Splink does.

        ``random_pairs`` (dedupe distance matrix): u, how each comparison's levels fall between
        two random customers. ``sessions``: per blocking rule, its pairs and the comparisons it
        fixes; EM on each rule's pairs estimates m of the comparisons the rule does not fix, and
        each comparison's m is the mean over the sessions that estimated it. ``candidates`` (a
        sample of the union of the rules' pairs, ``candidates_total`` in all, among
        ``pairs_total`` possible pairs): with m and u fixed, EM gives the share of matches among
        them, hence the probability that two random records match, the prior of every score.
        ``matches``: labelled matches, counted towards m. ``parties``: the database's size (the
        sample's share of matches holds for it; ``prior_for`` rescales it as the data grows)."""
        R = self.levels(random_pairs)
        M = (
            self.levels(matches)
            if matches is not None and len(matches)
            else np.empty((0, len(self.columns)), dtype=np.int16)
        )
        for j, c in enumerate(self.columns):
            counts = np.bincount(R[:, j][R[:, j] >= 0], minlength=c.levels).astype(float)
            self.u[j] = (counts + 0.1) / (counts.sum() + 0.1 * c.levels)
            start = 0.5 ** np.arange(c.levels)
            start[-1] = 0.02
            self.m[j] = start / start.sum()
        names = [c.name for c in self.columns]
        estimates: list[list[np.ndarray]] = [[] for _ in self.columns]
        conditional: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # rule → (levels, p)
        report_sessions = {}
        for rule, (pairs, fixes) in sessions.items():
            if len(pairs) < 20:
                continue
            active = np.array([name not in fixes and name not in FIXED for name in names])
            L = self.levels(pairs)
            prior, m, iterations = self._em(L, M, active, 0.3)
            conditional[rule] = (L, self._last_p)
            report_sessions[rule] = {
                "pairs": int(len(pairs)),
                "match_share": round(prior, 4),
                "iterations": iterations,
            }
            for j in np.flatnonzero(active):
                estimates[j].append(m[j])
        for j in range(len(self.columns)):
            if estimates[j]:
                self.m[j] = np.mean(estimates[j], axis=0)
            elif len(M):  # no session estimated it: the labelled matches alone
                labelled = M[:, j][M[:, j] >= 0]
                counts = np.bincount(labelled, minlength=self.columns[j].levels).astype(float)
                self.m[j] = (counts + 0.5) / (counts.sum() + 0.5 * self.columns[j].levels)
        conditional_report = self._conditional_u(conditional)
        self._fix()
        C = self.levels(candidates)
        share, _, _ = self._em(C, M, np.ones(len(self.columns), dtype=bool), 0.3, update_m=False)
        matches_expected = share * candidates_total
        self.prior = float(np.clip(matches_expected / max(pairs_total, 1), 1e-12, 0.5))
        self.trained_parties = parties  # the database's size then (the sample's prior holds for it)
        self.parties: int | None = None  # the size scores are for (set by runs: prior_for)
        self.report = {
            "random_pairs": int(len(R)),
            "candidate_pairs": int(candidates_total),
            "labelled_matches": int(len(M)),
            "sessions": report_sessions,
            "conditional_u": conditional_report,
            "match_share_of_candidates": round(share, 5),
            "match_probability_of_two_random_records": self.prior,
        }

    # -- step 2: the labels -----------------------------------------------------------------
    def _fit_corrections(
        self, L: np.ndarray, y: np.ndarray, strength: float, sample_weight: np.ndarray | None = None
    ):
        base = math.log(self.prior / (1 - self.prior))
        fs = self._sum(L, self.weights())
        sizes = [c.levels for c in self.columns]
        offsets = np.cumsum([0, *sizes])
        onehot = np.zeros((len(L), offsets[-1]))
        for j in range(len(self.columns)):
            seen = L[:, j] >= 0
            onehot[np.flatnonzero(seen), offsets[j] + L[seen, j]] = 1.0
        w = np.ones(len(L)) if sample_weight is None else sample_weight

        def loss(theta):
            scale, delta = theta[0], theta[1:]
            z = base + scale * fs + onehot @ delta
            p = expit(z)
            eps = 1e-12
            value = -np.sum(w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
            value += ((scale - 1) ** 2 + delta @ delta) / (2 * strength)
            residual = w * (p - y)
            grad = np.concatenate(
                [[residual @ fs + (scale - 1) / strength], onehot.T @ residual + delta / strength]
            )
            return value, grad

        theta0 = np.concatenate([[1.0], np.zeros(offsets[-1])])
        result = minimize(loss, theta0, jac=True, method="L-BFGS-B")
        scale, delta = result.x[0], result.x[1:]
        return scale, [delta[offsets[j] : offsets[j + 1]] for j in range(len(self.columns))]

    def prior_for(self, parties: int | None) -> float:
        """The probability that two random records match, for a database of ``parties``.
        Each customer has about as many duplicates whatever the size, so matches grow with the
        parties and pairs with their square: the prior learned on ``trained_parties`` scales
        by (trained - 1) / (parties - 1). Without a size, the training's own."""
        trained = getattr(self, "trained_parties", None)
        if not parties or not trained or parties < 2:
            return self.prior
        return float(np.clip(self.prior * (trained - 1) / (parties - 1), 1e-15, 0.5))

    def _final(self, scale: float, corrections: list[np.ndarray]) -> list[np.ndarray]:
        """The weights scores use: the data's, scaled and corrected by the labels, and no level
        above "same" (level 0): a rare level (a street typo, swapped names) can look like
        stronger evidence than agreement to EM, because random records almost never show it,
        but it never is (``CAPPED_AT``: a few levels capped lower still)."""
        final = []
        for j, (w, d) in enumerate(zip(self.weights(), corrections, strict=True)):
            weights = scale * w + d
            if self.columns[j].name not in FIXED:
                weights = np.concatenate([weights[:1], np.minimum(weights[1:], weights[0])])
                for level, weaker in CAPPED_AT.get(self.columns[j].name, {}).items():
                    weights[level] = min(weights[level], weights[weaker])
            final.append(weights)
        return final

    def _logit(self, L: np.ndarray, scale: float, corrections: list[np.ndarray]) -> np.ndarray:
        prior = self.prior_for(getattr(self, "parties", None))
        base = math.log(prior / (1 - prior))
        return base + self._sum(L, self._final(scale, corrections))

    def fit(self, X, y) -> EvidenceClassifier:
        """Refine the data's weights with the labelled pairs (dedupe's ``train`` calls this)."""
        L, y = self.levels(X), np.asarray(y, dtype=float)
        minority = int(min(y.sum(), len(y) - y.sum()))
        folds = min(5, minority)
        strengths = [s for i, s in enumerate(LABEL_STRENGTHS) if i == 0 or s <= len(y) / LABELS_PER_STRENGTH]
        if folds < 2 or len(strengths) == 1:
            self.strength = LABEL_STRENGTHS[0]
        else:
            rng = np.random.default_rng(0)
            fold_of = np.empty(len(y), dtype=int)
            for label in (0, 1):  # stratified
                where = rng.permutation(np.flatnonzero(y == label))
                fold_of[where] = np.arange(len(where)) % folds
            losses = []  # per strength: each labelled pair's held-out log loss
            for strength in strengths:
                loss = np.empty(len(y))
                for fold in range(folds):
                    train, test = fold_of != fold, fold_of == fold
                    scale, corrections = self._fit_corrections(L[train], y[train], strength)
                    p = np.clip(expit(self._logit(L[test], scale, corrections)), 1e-6, 1 - 1e-6)
                    loss[test] = -(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))
                losses.append(loss)
            means = [float(loss.mean()) for loss in losses]
            best = int(np.argmin(means))
            # the "one standard error" rule: the strongest pull towards the data's weights whose
            # held-out loss is within one standard error of the best. A few hard labels (a
            # steward's first answers are the pairs the model is least sure of) would otherwise
            # pull the weights too far on noise: 10 such answers cost FEBRL4 7 points of recall.
            limit = means[best] + float(losses[best].std(ddof=1) / math.sqrt(len(y)))
            self.strength = next(
                strength for strength, mean in zip(strengths, means, strict=True) if mean <= limit
            )
            self.report["label_log_loss_by_strength"] = dict(
                zip(map(str, strengths), [round(x, 4) for x in means], strict=True)
            )
        self.scale, self.corrections = self._fit_corrections(L, y, self.strength)
        self.report.update(
            {"labels": int(len(y)), "label_strength": self.strength, "scale": round(float(self.scale), 4)}
        )
        return self

    def predict_proba(self, X) -> np.ndarray:
        p = expit(self._logit(self.levels(X), self.scale, self.corrections))
        return np.column_stack([1 - p, p])

    def level_weights(self) -> dict[str, list[float]]:
        """The final weight of each level (log-odds it adds), for the model's page."""
        return {
            c.name: [round(float(x), 3) for x in weights]
            for c, weights in zip(self.columns, self._final(self.scale, self.corrections), strict=True)
        }
