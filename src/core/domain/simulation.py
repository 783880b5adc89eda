"""A seeded simulation of a validating crowd that replays production's rules, so operators can
choose a policy and its thresholds.

Everything a vote goes through is the real domain code: the standing a vote snapshots
(``ValidatorRecord.standing``), its evidence under the policy, ``cast_vote``, the queue's
``distance_to_decision``, gold serving (``ValidationRules.gold_serving`` and ``gold_slots``),
what a settled clip teaches (``lessons_of_settled_clip``), gold lessons
(``ValidatorAccuracy.after_gold_answer``) and the periodic refit with probation
(``consensus_refit.plan_refit``). Only the validators' true behaviour, the clock and the
storage are simulated.

Crowds (``CrowdKind``; accuracies are drawn uniformly in the ranges below, and a validator
with accuracy a says the right verdict with probability a whatever the clip):

- ``standard``: 70 % honest (0.88–0.97), 20 % noisy (0.6–0.75), 10 % coin-flippers (say
  ``valid`` half the time whatever the clip).
- ``coin_flippers``: 20 % coin-flippers; 60 % honest, 20 % noisy.
- ``one_sided``: 30 % one-sided voters, half "always valid", half "always invalid"; 50 %
  honest, 20 % noisy.
- ``cold_start``: the standard crowd with no history at all (see warm and cold start below).
- ``language``: three languages; 10 % coin-flippers, and 90 % *uneven* validators, each good
  (0.88–0.97) in one or two of the languages (a random non-empty proper subset) and poor
  (0.5–0.65) in the others. Validators validate in every language.
- ``drift``: the standard crowd, but 40 % of its honest validators (28 % of the crowd)
  degrade part-way: from a moment drawn uniformly in [25 %, 75 %] of the run (the share of
  clips settled) their accuracy is redrawn in 0.5–0.65.

Every kind but ``language`` has one language. Each validator has an activity weight
(log-normal, σ = 1): a few validators do much of the work, as in real crowds.

Warm start (every kind but ``cold_start``): each validator has already answered
``history_gold_answers`` gold clips (retired ones, never served again), drawn from their
behaviour at the start; the crowd model and probation come from a refit over that history
before the first clip opens; each language has ``gold_clips`` gold clips to serve.

Cold start (``cold_start``), precisely: histories are empty, the crowd model is the domain's
default (rates 0.8, valid share ½) until the first periodic refit, and each language starts
with ``cold_start_gold_clips`` gold clips; an admin adds one more for every
``gold_added_every`` clips settled in that language, up to ``gold_clips``.

How a run goes (``simulate``), interleaved as in production:

- ``clips`` clips, in arrival order, each valid with probability ``valid_share``, in a random
  language, recorded by a random member of the crowd (who is never served their own clip).
  ``open_clips`` of them are open at once: each settled clip makes room for the next.
- ``sessions_at_once`` validators are at work at any moment. A session is one validator
  (drawn by activity among those not at work) fetching one page of ``page_size`` clips in one
  language exactly as ``NextQueuePage`` builds it: gold at the share ``gold_serving`` gives
  that validator (only gold for a validator whose votes carry no information), gold clips
  they have not answered from a random pivot, and pending clips that are not their own and
  that they have not voted on, closest to a decision first (the rank ``distance_to_decision``
  stored at the clip's last counted vote), then oldest. Each step one session, drawn at
  random, votes on the next clip of its page; a session that finished its page is replaced.
  So votes on many clips interleave, and a clip settled after it was served receives
  ``late`` votes that change nothing (and are counted as votes spent).
- A vote is applied as ``SubmitVote`` applies a served, timely vote: on a gold clip it
  teaches the validator at once; otherwise ``cast_vote`` with the validator's standing at
  that moment, and when it settles the clip every solicited vote teaches its validator
  q = P(valid) of the tally. (No vote in the simulation is unsolicited or too fast.)
- Every ``refit_every`` settled clips the model is refitted (``plan_refit`` over all gold
  answers and the teaching votes on settled clips), as the worker does periodically: new
  counts, crowd model and probation flags.
- Answers use common random numbers: validator v's answer on clip c depends only on the seed,
  v, c and their behaviour, and the sessions arrive in the same order, so two policies run
  on the same seed meet the same crowd, clips and answers wherever their queues agree.
- The run ends when every clip is settled, or when ``20 × validators`` sessions in a row found
  no pending clip to serve (a tiny crowd): the clips left are ``unsettled``.

Metrics (``SimulationResult``): label accuracy over all clips (disputed and unsettled count as
wrong), over decided clips only, real votes per clip (every vote on a non-gold clip, late and
ignored ones included; gold answers apart), gold answers per clip, and the share disputed.

Baselines: ``majority`` is the CV rule under the production rules (probation, gold-only
serving of validators whose votes carry no information, the established guard); a plain
Common Voice run (``plain_common_voice``) is the same rule with none of them.

The threshold sweep (``sweep``) runs both baselines and each thresholded policy at each accept
threshold t (reject 1 − t) on the same seeds, averages each point over the seeds, and reads
each policy's error rate at a baseline's votes per clip off its curve (``error_at_votes``).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from itertools import accumulate, pairwise
from operator import attrgetter
from statistics import fmean
from uuid import UUID

from core.domain.accuracy import (
    AccuracyConfig,
    ValidatorAccuracy,
    ValidatorRecord,
    ValidatorStanding,
)
from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.consensus import (
    PolicyName,
    cast_vote,
    distance_to_decision,
    policy_named,
)
from core.domain.consensus_refit import RefitSnapshot, plan_refit
from core.domain.dawid_skene import PRIOR_STRENGTH, Answer, CrowdModel, refit
from core.domain.validation import (
    GoldServing,
    ValidationRules,
    VoteRecord,
    gold_slots,
    lessons_of_settled_clip,
    valid_probability,
)
from core.errors import InvalidInput

# -- crowds ---------------------------------------------------------------------------------

HONEST_ACCURACY = (0.88, 0.97)
NOISY_ACCURACY = (0.6, 0.75)
POOR_ACCURACY = (0.5, 0.65)  # an uneven validator's weak languages; a drifter after drifting
LANGUAGE_CROWD_LANGUAGES = 3
DRIFTING_SHARE_OF_HONEST = 0.4
DRIFT_WINDOW = (0.25, 0.75)
ACTIVITY_SIGMA = 1.0


class CrowdKind(StrEnum):
    """The simulated crowds (see the module's docstring)."""

    STANDARD = "standard"
    COIN_FLIPPERS = "coin_flippers"
    ONE_SIDED = "one_sided"
    COLD_START = "cold_start"
    LANGUAGE = "language"
    DRIFT = "drift"

    @property
    def languages(self) -> int:
        return LANGUAGE_CROWD_LANGUAGES if self is CrowdKind.LANGUAGE else 1

    @property
    def cold(self) -> bool:
        return self is CrowdKind.COLD_START


class Role(StrEnum):
    """How a simulated validator behaves."""

    HONEST = "honest"
    NOISY = "noisy"
    COIN_FLIPPER = "coin_flipper"
    ALWAYS_VALID = "always_valid"
    ALWAYS_INVALID = "always_invalid"
    UNEVEN = "uneven"  # good in some languages, poor in others
    DRIFTING = "drifting"  # honest, then poor from some moment on


_STANDARD_MIX = ((Role.HONEST, 0.7), (Role.NOISY, 0.2), (Role.COIN_FLIPPER, 0.1))
_DRIFTING = round(0.7 * DRIFTING_SHARE_OF_HONEST, 12)
CROWD_MIXES: Mapping[CrowdKind, tuple[tuple[Role, float], ...]] = {
    CrowdKind.STANDARD: _STANDARD_MIX,
    CrowdKind.COIN_FLIPPERS: ((Role.HONEST, 0.6), (Role.NOISY, 0.2), (Role.COIN_FLIPPER, 0.2)),
    CrowdKind.ONE_SIDED: (
        (Role.HONEST, 0.5),
        (Role.NOISY, 0.2),
        (Role.ALWAYS_VALID, 0.15),
        (Role.ALWAYS_INVALID, 0.15),
    ),
    CrowdKind.COLD_START: _STANDARD_MIX,
    CrowdKind.LANGUAGE: ((Role.UNEVEN, 0.9), (Role.COIN_FLIPPER, 0.1)),
    CrowdKind.DRIFT: (
        (Role.HONEST, 0.7 - _DRIFTING),
        (Role.DRIFTING, _DRIFTING),
        (Role.NOISY, 0.2),
        (Role.COIN_FLIPPER, 0.1),
    ),
}


@dataclass(frozen=True, slots=True)
class Behaviour:
    """A validator's true rates: P(says valid | valid) and P(says invalid | invalid)."""

    sensitivity: float
    specificity: float

    @classmethod
    def accurate(cls, accuracy: float) -> Behaviour:
        """Right with probability ``accuracy`` whatever the clip."""
        return cls(accuracy, accuracy)

    def answer(self, truth: Verdict, draw: float) -> Verdict:
        """The verdict given ``draw`` uniform in [0, 1)."""
        if truth is Verdict.VALID:
            return Verdict.VALID if draw < self.sensitivity else Verdict.INVALID
        return Verdict.INVALID if draw < self.specificity else Verdict.VALID


@dataclass(frozen=True, slots=True)
class SimulatedValidator:
    """One member of the crowd: their behaviour per language, how active they are, and for a
    drifter when (share of clips settled) and to what their behaviour changes."""

    role: Role
    behaviour: tuple[Behaviour, ...]
    activity: float
    drifts_at: float = 2.0  # never, unless the role drifts
    drifted: Behaviour | None = None

    def behaviour_at(self, language: int, progress: float) -> Behaviour:
        if self.drifted is not None and progress >= self.drifts_at:
            return self.drifted
        return self.behaviour[language]


def _apportion(total: int, shares: Sequence[float]) -> list[int]:
    """Whole counts summing to ``total`` in the given shares (largest remainders)."""
    exact = [total * share for share in shares]
    counts = [int(value) for value in exact]
    by_remainder = sorted(range(len(shares)), key=lambda i: exact[i] - counts[i], reverse=True)
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def _member(role: Role, languages: int, rng: random.Random) -> SimulatedValidator:
    def drawn(bounds: tuple[float, float]) -> Behaviour:
        return Behaviour.accurate(rng.uniform(*bounds))

    activity = rng.lognormvariate(0.0, ACTIVITY_SIGMA)
    if role is Role.UNEVEN:
        good = set(rng.sample(range(languages), rng.randint(1, max(languages - 1, 1))))
        per_language = tuple(
            drawn(HONEST_ACCURACY if lang in good else POOR_ACCURACY) for lang in range(languages)
        )
        return SimulatedValidator(role, per_language, activity)
    if role is Role.DRIFTING:
        start = drawn(HONEST_ACCURACY)
        moment = rng.uniform(*DRIFT_WINDOW)
        return SimulatedValidator(
            role, (start,) * languages, activity, moment, drawn(POOR_ACCURACY)
        )
    fixed = {
        Role.HONEST: lambda: drawn(HONEST_ACCURACY),
        Role.NOISY: lambda: drawn(NOISY_ACCURACY),
        Role.COIN_FLIPPER: lambda: Behaviour(0.5, 0.5),
        Role.ALWAYS_VALID: lambda: Behaviour(1.0, 0.0),
        Role.ALWAYS_INVALID: lambda: Behaviour(0.0, 1.0),
    }[role]()
    return SimulatedValidator(role, (fixed,) * languages, activity)


def build_crowd(kind: CrowdKind, validators: int, rng: random.Random) -> list[SimulatedValidator]:
    """The crowd of ``kind``: roles in exactly the kind's shares (rounded to whole
    validators), shuffled."""
    mix = CROWD_MIXES[kind]
    counts = _apportion(validators, [share for _, share in mix])
    members = [
        _member(role, kind.languages, rng)
        for (role, _), count in zip(mix, counts, strict=True)
        for _ in range(count)
    ]
    rng.shuffle(members)
    return members


# -- parameters and results ------------------------------------------------------------------

_NEVER = 1 << 62  # gold answers before probation, for a rule that has none


@dataclass(frozen=True, slots=True)
class SimulationParams:
    """Everything one run depends on; the same params always give the same result.
    ``rules`` are production's (policy, thresholds, gold serving, probation, the established
    guard); ``prior_strength`` is the crowd model's."""

    kind: CrowdKind = CrowdKind.STANDARD
    clips: int = 2000
    validators: int = 200
    valid_share: float = 0.8
    rules: ValidationRules = field(default_factory=ValidationRules)
    prior_strength: float = PRIOR_STRENGTH
    open_clips: int = 100
    page_size: int = 10
    sessions_at_once: int = 1
    refit_every: int = 200
    refit_iterations: int = 50
    history_gold_answers: int = 10
    gold_clips: int = 60
    cold_start_gold_clips: int = 2
    gold_added_every: int = 20
    gold_valid_share: float | None = None  # None: the same share as the clips'
    plain_common_voice: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.clips < 1 or self.validators < 1:
            raise InvalidInput("Need ≥ 1 clip and ≥ 1 validator.", code="invalid_config")
        shares = (self.valid_share, self.gold_truth_share)
        if not all(0.0 <= share <= 1.0 for share in shares):
            raise InvalidInput(
                "valid_share and gold_valid_share must lie in [0, 1].", code="invalid_config"
            )
        if self.prior_strength <= 0:
            raise InvalidInput("prior_strength must be > 0.", code="invalid_config")
        positive = (
            self.open_clips,
            self.page_size,
            self.sessions_at_once,
            self.refit_every,
            self.refit_iterations,
            self.gold_added_every,
        )
        if min(positive) < 1:
            raise InvalidInput(
                "Open clips, page size, sessions, refit period and iterations and the gold "
                "growth period must be ≥ 1.",
                code="invalid_config",
            )
        if min(self.history_gold_answers, self.gold_clips, self.cold_start_gold_clips) < 0:
            raise InvalidInput("Gold counts must be ≥ 0.", code="invalid_config")

    @property
    def gold_truth_share(self) -> float:
        """The share of gold clips that are valid."""
        return self.valid_share if self.gold_valid_share is None else self.gold_valid_share

    @property
    def policy(self) -> PolicyName:
        return self.rules.policy.name

    @property
    def effective_rules(self) -> ValidationRules:
        """``rules``, or for a plain Common Voice run the ``majority`` policy with nothing
        else of production's: no probation, no gold-only serving, no established guard (gold
        is still served at the same rates, so that gold costs the same)."""
        if not self.plain_common_voice:
            return self.rules
        config = replace(self.rules.policy.config, require_established=False)
        return replace(
            self.rules,
            policy=policy_named(PolicyName.MAJORITY, config),
            accuracy=replace(self.rules.accuracy, probation_min_gold_answers=_NEVER),
            junk_informedness=-1.0,
        )

    def as_plain_common_voice(self) -> SimulationParams:
        """The same run under Common Voice's rule as Common Voice applies it."""
        return replace(self.with_policy(PolicyName.MAJORITY), plain_common_voice=True)

    def with_policy(
        self, policy: PolicyName, accept_threshold: float | None = None
    ) -> SimulationParams:
        """The same run under ``policy``, at ``accept_threshold`` (reject = 1 − it) if given."""
        config = self.rules.policy.config
        if accept_threshold is not None:
            config = replace(
                config,
                accept_threshold=accept_threshold,
                reject_threshold=round(1.0 - accept_threshold, 12),
            )
        return replace(
            self,
            rules=replace(self.rules, policy=policy_named(policy, config)),
            plain_common_voice=False,
        )


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Counts from one run, and the ratios operators look at."""

    kind: CrowdKind
    policy: PolicyName
    accept_threshold: float | None  # None for ``majority``, which has no threshold
    plain_common_voice: bool
    seed: int
    clips: int
    accepted: int
    rejected: int
    disputed: int
    unsettled: int  # never settled: the crowd ran out of validators for them
    correct: int
    votes_cast: int  # real votes on non-gold clips, whatever their outcome
    counted_votes: int
    late_votes: int
    gold_answers: int
    validators_on_probation: int
    refits: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def label_accuracy(self) -> float:
        """Share of all clips decided rightly (disputed and unsettled count as wrong)."""
        return self.correct / self.clips

    @property
    def error_rate(self) -> float:
        return 1.0 - self.label_accuracy

    @property
    def decided_label_accuracy(self) -> float:
        """Share of decided clips whose decision matches the truth."""
        return self.correct / self.decided if self.decided else 0.0

    @property
    def votes_per_clip(self) -> float:
        return self.votes_cast / self.clips

    @property
    def gold_per_clip(self) -> float:
        return self.gold_answers / self.clips

    @property
    def disputed_share(self) -> float:
        return self.disputed / self.clips

    @property
    def late_share(self) -> float:
        """Share of the real votes that arrived after their clip was settled."""
        return self.late_votes / self.votes_cast if self.votes_cast else 0.0


@dataclass(frozen=True, slots=True)
class VoteLog:
    """What a run's crowd said, for aggregating the same votes offline: every solicited,
    timely vote on a non-gold clip (truth unknown to the aggregator) and every gold answer
    (truth given); each clip's true verdict and the status the run gave it."""

    answers: tuple[Answer, ...]
    truth: Mapping[int, Verdict]
    status: Mapping[int, ClipStatus]

    def accuracy_of(self, labels: Mapping[int, Verdict]) -> float:
        """Share of the run's clips whose label in ``labels`` is the truth (a clip without a
        label counts as wrong)."""
        right = sum(labels.get(clip) is truth for clip, truth in self.truth.items())
        return right / len(self.truth)


# -- one run ----------------------------------------------------------------------------------

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_MASK = (1 << 64) - 1
_STALL_FETCHES_PER_VALIDATOR = 20
_GOLD_KEYS = 1 << 40  # gold clips are numbered apart from the run's clips
_HISTORY_KEYS = 2 << 40  # the retired gold clips of the warm-start history
_QUEUE_ORDER = attrgetter("rank", "key")  # closest to a decision first, then oldest


def _stream(seed: int, name: str) -> random.Random:
    """An independent random stream of the run, one per purpose."""
    return random.Random(f"{seed}/{name}")  # noqa: S311 - reproducible simulation, not security


def _uniform(seed: int, validator: int, clip: int) -> float:
    """A uniform draw in [0, 1) fixed by (seed, validator, clip): splitmix64's finaliser."""
    z = (seed * 0x9E3779B97F4A7C15 + validator * 0xBF58476D1CE4E5B9 + clip + 1) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return ((z ^ (z >> 31)) >> 11) * 2.0**-53


@dataclass(slots=True)
class _Clip:
    key: int
    language: int
    truth: Verdict
    contributor: int
    tally: ClipTally = field(default_factory=ClipTally)
    rank: int = 0
    voters: set[int] = field(default_factory=set)
    votes: list[VoteRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Gold:
    key: int
    truth: Verdict


@dataclass(slots=True)
class _Session:
    validator: int
    language: int
    page: list[_Clip | _Gold]
    position: int = 0


class _Run:
    """Mutable state of one run; never leaves this module."""

    def __init__(self, params: SimulationParams) -> None:
        self.params = params
        self.rules = params.effective_rules
        self.policy = self.rules.policy
        self.config: AccuracyConfig = self.rules.accuracy
        seed, kind = params.seed, params.kind
        self.crowd = build_crowd(kind, params.validators, _stream(seed, "crowd"))
        self.ids = [UUID(int=index + 1) for index in range(len(self.crowd))]
        self.cumulative_activity = list(accumulate(member.activity for member in self.crowd))
        self.arrivals = _stream(seed, "arrivals")
        self.pages = _stream(seed, "pages")
        self.steps = _stream(seed, "steps")
        self.plan = self._plan_clips(_stream(seed, "clips"))
        self.records = [ValidatorRecord() for _ in self.crowd]
        self.gold_answered: list[set[int]] = [set() for _ in self.crowd]
        self.model = CrowdModel(prior_strength=params.prior_strength)
        self.teaching: list[Answer] = []
        self.open: list[list[_Clip]] = [[] for _ in range(kind.languages)]
        self.opened = self.settled = self.refits = 0
        self.settled_in = [0] * kind.languages
        self.gold: list[list[_Gold]] = [[] for _ in range(kind.languages)]
        self.gold_made = 0
        self.gold_rng = _stream(seed, "gold")
        self.statuses: dict[ClipStatus, int] = {}
        self.final_status: dict[int, ClipStatus] = {}
        self.correct = self.votes_cast = self.counted_votes = self.late_votes = 0
        self.gold_answers = 0
        self.active: set[int] = set()
        self.idle_fetches = 0
        self.new_clip_rank = distance_to_decision(ClipTally(), self.policy, CrowdModel())

    # -- setting up --

    def _plan_clips(self, rng: random.Random) -> list[_Clip]:
        params, languages = self.params, self.params.kind.languages
        return [
            _Clip(
                key=index,
                language=rng.randrange(languages),
                truth=Verdict.VALID if rng.random() < params.valid_share else Verdict.INVALID,
                contributor=rng.randrange(len(self.crowd)),
            )
            for index in range(params.clips)
        ]

    def _add_gold(self, language: int) -> None:
        share = self.params.gold_truth_share
        truth = Verdict.VALID if self.gold_rng.random() < share else Verdict.INVALID
        self.gold[language].append(_Gold(_GOLD_KEYS + self.gold_made, truth))
        self.gold_made += 1

    def _warm_up(self) -> None:
        params = self.params
        if params.kind.cold:
            for language in range(params.kind.languages):
                for _ in range(min(params.cold_start_gold_clips, params.gold_clips)):
                    self._add_gold(language)
            return
        for language in range(params.kind.languages):
            for _ in range(params.gold_clips):
                self._add_gold(language)
        history = _stream(params.seed, "history")
        for index, member in enumerate(self.crowd):
            for answer in range(params.history_gold_answers):
                key = _HISTORY_KEYS + index * params.history_gold_answers + answer
                valid = history.random() < params.gold_truth_share
                truth = Verdict.VALID if valid else Verdict.INVALID
                language = history.randrange(params.kind.languages)
                said = member.behaviour_at(language, 0.0).answer(
                    truth, _uniform(params.seed, index, key)
                )
                self._learn_gold(index, key, said, truth)
        self._refit()

    # -- the queue --

    def _pending_page(self, validator: int, language: int, limit: int) -> list[_Clip]:
        if limit <= 0:
            return []
        eligible = (
            clip
            for clip in self.open[language]
            if clip.contributor != validator and validator not in clip.voters
        )
        return heapq.nsmallest(limit, eligible, key=_QUEUE_ORDER)

    def _gold_page(self, validator: int, language: int, limit: int) -> list[_Gold]:
        pool, answered = self.gold[language], self.gold_answered[validator]
        if limit <= 0 or not pool:
            return []
        pivot = self.pages.randrange(len(pool))
        found: list[_Gold] = []
        for offset in range(len(pool)):
            gold = pool[(pivot + offset) % len(pool)]
            if gold.key not in answered:
                found.append(gold)
                if len(found) == limit:
                    break
        return found

    def _page(self, validator: int, language: int) -> list[_Clip | _Gold]:
        """What ``NextQueuePage`` serves this validator."""
        limit = self.params.page_size
        serving = self._serving(self.records[validator].standing(self.config, self.model))
        wanted = (
            limit if serving.only_gold else gold_slots(limit, serving.share, self.pages.random())
        )
        gold = self._gold_page(validator, language, wanted)
        pending = (
            [] if serving.only_gold else self._pending_page(validator, language, limit - len(gold))
        )
        page: list[_Clip | _Gold] = list(pending)
        for clip in gold:
            page.insert(int(self.pages.random() * (len(page) + 1)), clip)
        return page

    def _serving(self, standing: ValidatorStanding) -> GoldServing:
        """Production's ``gold_serving``."""
        return self.rules.gold_serving(standing)

    def _new_session(self) -> _Session | None:
        """The next validator to arrive with a non-empty page; ``None`` once the crowd has
        stalled (too many fetches in a row without a pending clip)."""
        stall = _STALL_FETCHES_PER_VALIDATOR * len(self.crowd)
        while self.idle_fetches < stall:
            validator = self.arrivals.choices(
                range(len(self.crowd)), cum_weights=self.cumulative_activity
            )[0]
            language = self.arrivals.randrange(self.params.kind.languages)
            if validator in self.active:
                continue
            page = self._page(validator, language)
            if any(isinstance(item, _Clip) for item in page):
                self.idle_fetches = 0
            else:
                self.idle_fetches += 1
            if page:
                self.active.add(validator)
                return _Session(validator, language, page)
        return None

    # -- votes --

    def _learn(self, validator: int, lesson: ValidatorAccuracy) -> None:
        """Add ``lesson`` to the validator's history (``ValidatorStats.add``)."""
        record = self.records[validator]
        self.records[validator] = ValidatorRecord(
            record.history.plus(lesson),
            record.on_probation,
            record.published_accuracy,
            record.published_at,
        )

    def _learn_gold(self, validator: int, key: int, said: Verdict, truth: Verdict) -> None:
        lesson = ValidatorAccuracy().after_gold_answer(said, truth)
        self._learn(validator, lesson)
        self.gold_answered[validator].add(key)
        self.teaching.append(Answer(self.ids[validator], key, said, truth))

    def _vote(self, session: _Session, item: _Clip | _Gold) -> None:
        validator, seed = session.validator, self.params.seed
        progress = self.settled / self.params.clips
        behaviour = self.crowd[validator].behaviour_at(session.language, progress)
        said = behaviour.answer(item.truth, _uniform(seed, validator, item.key))
        if isinstance(item, _Gold):
            self._learn_gold(validator, item.key, said, item.truth)
            self.gold_answers += 1
            return
        clip = item
        self.votes_cast += 1
        clip.voters.add(validator)
        if clip.tally.status.is_settled:
            self.late_votes += 1  # recorded as ``late``: changes nothing, teaches nothing
            return
        standing = self.records[validator].standing(self.config, self.model)
        vote = Vote(
            validator_id=self.ids[validator],
            verdict=said,
            evidence=self.policy.evidence(said, standing),
            on_probation=standing.on_probation,
            established=standing.established or not self.gold[clip.language],
        )
        result = cast_vote(clip.tally, vote, self.policy, self.policy.prior_log_odds(self.model))
        if result.outcome is VoteOutcome.COUNTED:
            self.counted_votes += 1
            clip.tally = result.tally
            clip.rank = distance_to_decision(result.tally, self.policy, self.model)
        clip.votes.append(
            VoteRecord(
                id=UUID(int=self.votes_cast),
                clip_id=UUID(int=clip.key),
                validator_id=vote.validator_id,
                verdict=said,
                outcome=result.outcome,
                evidence=vote.evidence,
                accuracy=standing.reliability.balanced_accuracy,
                on_probation=standing.on_probation,
                established=vote.established,
                created_at=_EPOCH,
            )
        )
        if result.settled_now:
            self._settle(clip)

    def _settle(self, clip: _Clip) -> None:
        tally = clip.tally
        lessons = lessons_of_settled_clip(clip.votes, tally.status, valid_probability(tally))
        for who, lesson in lessons.items():
            self._learn(who.int - 1, lesson)
        self.teaching.extend(
            Answer(vote.validator_id, clip.key, vote.verdict)
            for vote in clip.votes
            if vote.outcome.teaches_on_settlement
        )
        self.open[clip.language].remove(clip)
        self.statuses[tally.status] = self.statuses.get(tally.status, 0) + 1
        self.final_status[clip.key] = tally.status
        self.correct += tally.status.verdict is clip.truth
        self.settled += 1
        self.settled_in[clip.language] += 1
        params = self.params
        if (
            self.settled_in[clip.language] % params.gold_added_every == 0
            and len(self.gold[clip.language]) < params.gold_clips
        ):
            self._add_gold(clip.language)
        self._open_next()
        if self.settled % params.refit_every == 0:
            self._refit()

    def _open_next(self) -> None:
        if self.opened < len(self.plan):
            clip = self.plan[self.opened]
            clip.rank = self.new_clip_rank
            self.open[clip.language].append(clip)
            self.opened += 1

    def _refit(self) -> None:
        """The worker's periodic refit; nothing is learned while it runs here, so its result
        is stored as is (production merges what was learned meanwhile)."""
        snapshot = RefitSnapshot(
            model=self.model,
            histories={self.ids[i]: record.history for i, record in enumerate(self.records)},
            answers=self.teaching,
            rushed={},
        )
        plan = plan_refit(
            snapshot, self.config, _EPOCH, max_iterations=self.params.refit_iterations
        )
        for index, record in enumerate(self.records):
            who = self.ids[index]
            self.records[index] = replace(
                record,
                history=replace(record.history, confusion=plan.counts[who]),
                on_probation=plan.on_probation[who],
                published_accuracy=plan.published_accuracy[who],
            )
        self.model = plan.model
        self.refits += 1

    # -- the run --

    def run(self) -> None:
        self._warm_up()
        for _ in range(min(self.params.open_clips, self.params.clips)):
            self._open_next()
        sessions: list[_Session] = []
        for _ in range(min(self.params.sessions_at_once, len(self.crowd))):
            session = self._new_session()
            if session is not None:
                sessions.append(session)
        while sessions and self.settled < self.params.clips:
            index = self.steps.randrange(len(sessions))
            session = sessions[index]
            self._vote(session, session.page[session.position])
            session.position += 1
            if session.position == len(session.page):
                self.active.discard(session.validator)
                following = self._new_session()
                if following is None:
                    sessions.pop(index)
                else:
                    sessions[index] = following

    def result(self) -> SimulationResult:
        params = self.params
        return SimulationResult(
            kind=params.kind,
            policy=self.policy.name,
            accept_threshold=(
                None
                if self.policy.name is PolicyName.MAJORITY
                else self.policy.config.accept_threshold
            ),
            plain_common_voice=params.plain_common_voice,
            seed=params.seed,
            clips=params.clips,
            accepted=self.statuses.get(ClipStatus.ACCEPTED, 0),
            rejected=self.statuses.get(ClipStatus.REJECTED, 0),
            disputed=self.statuses.get(ClipStatus.DISPUTED, 0),
            unsettled=params.clips - self.settled,
            correct=self.correct,
            votes_cast=self.votes_cast,
            counted_votes=self.counted_votes,
            late_votes=self.late_votes,
            gold_answers=self.gold_answers,
            validators_on_probation=sum(record.on_probation for record in self.records),
            refits=self.refits,
        )

    def log(self) -> VoteLog:
        return VoteLog(
            answers=tuple(self.teaching),
            truth={clip.key: clip.truth for clip in self.plan},
            status=dict(self.final_status),
        )


def simulate(params: SimulationParams) -> SimulationResult:
    """Replay a simulated crowd through ``params.rules``; deterministic for given params."""
    run = _Run(params)
    run.run()
    return run.result()


def simulate_with_log(params: SimulationParams) -> tuple[SimulationResult, VoteLog]:
    """``simulate``, and the votes the run collected (for offline aggregation)."""
    run = _Run(params)
    run.run()
    return run.result(), run.log()


def offline_dawid_skene(log: VoteLog, prior_strength: float = PRIOR_STRENGTH) -> dict[int, Verdict]:
    """Labels from a batch Dawid–Skene fit (this domain's ``refit``, gold clamped) of all the
    run's votes at once: each clip labelled by the sign of its posterior log-odds."""
    fitted = refit(log.answers, start=CrowdModel(prior_strength=prior_strength))
    return {
        clip: Verdict.VALID if q > 0.5 else Verdict.INVALID
        for clip, q in fitted.valid_probability.items()
        if isinstance(clip, int) and clip in log.truth and q != 0.5
    }


# -- threshold sweep ------------------------------------------------------------------------

DEFAULT_SWEEP_THRESHOLDS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)
THRESHOLDED_POLICIES = (PolicyName.DAWID_SKENE, PolicyName.WEIGHTED)


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One policy at one accept threshold, over one or more seeds (means)."""

    policy: PolicyName
    accept_threshold: float | None
    results: tuple[SimulationResult, ...]

    @property
    def error_rate(self) -> float:
        return fmean(result.error_rate for result in self.results)

    @property
    def label_accuracy(self) -> float:
        return 1.0 - self.error_rate

    @property
    def decided_label_accuracy(self) -> float:
        return fmean(result.decided_label_accuracy for result in self.results)

    @property
    def votes_per_clip(self) -> float:
        return fmean(result.votes_per_clip for result in self.results)

    @property
    def gold_per_clip(self) -> float:
        return fmean(result.gold_per_clip for result in self.results)

    @property
    def disputed_share(self) -> float:
        return fmean(result.disputed_share for result in self.results)

    @property
    def late_share(self) -> float:
        return fmean(result.late_share for result in self.results)


@dataclass(frozen=True, slots=True)
class AtVotes:
    """A policy's error rate read off its sweep at a given number of votes per clip.

    ``between``: the two accept thresholds whose points bracket it (linear interpolation in
    votes per clip). When every point of the sweep spends fewer votes, the error is the most
    expensive point's, at its own ``votes_per_clip`` (``interpolated`` false): a conservative
    figure, as more votes per clip do not make a policy worse."""

    votes_per_clip: float
    error_rate: float
    between: tuple[float, float]
    interpolated: bool


def error_at_votes(points: Sequence[SweepPoint], votes: float) -> AtVotes | None:
    """Where the sweep's curve (its points in threshold order, joined by straight lines in the
    (votes per clip, error rate) plane) first crosses ``votes`` per clip; ``None`` when every
    point spends more than that."""
    ordered = sorted(points, key=lambda point: point.accept_threshold or 0.0)
    for low, high in pairwise(ordered):
        v_low, v_high = low.votes_per_clip, high.votes_per_clip
        if min(v_low, v_high) <= votes <= max(v_low, v_high):
            weight = 0.0 if v_high == v_low else (votes - v_low) / (v_high - v_low)
            error = low.error_rate + weight * (high.error_rate - low.error_rate)
            thresholds = (low.accept_threshold or 0.0, high.accept_threshold or 0.0)
            return AtVotes(votes, error, thresholds, interpolated=True)
    cheaper = [point for point in ordered if point.votes_per_clip <= votes]
    if not cheaper:
        return None
    best = max(cheaper, key=lambda point: point.votes_per_clip)
    threshold = best.accept_threshold or 0.0
    return AtVotes(best.votes_per_clip, best.error_rate, (threshold, threshold), False)


@dataclass(frozen=True, slots=True)
class Sweep:
    """One crowd kind: the baselines and each thresholded policy's points in threshold order,
    all on the same seeds. ``majority`` is the CV rule under the same production rules
    (probation, gold-only serving of junk validators, the established guard);
    ``common_voice`` is the CV rule alone, as Common Voice applies it."""

    kind: CrowdKind
    majority: SweepPoint
    common_voice: SweepPoint | None
    curves: Mapping[PolicyName, tuple[SweepPoint, ...]]

    def baseline(self, plain: bool = False) -> SweepPoint:
        if plain and self.common_voice is None:
            raise InvalidInput("This sweep has no plain Common Voice run.", code="invalid_sweep")
        return self.common_voice if plain and self.common_voice is not None else self.majority

    def at_majority_votes(self, policy: PolicyName, plain: bool = False) -> AtVotes | None:
        """``policy``'s error rate at the baseline's votes per clip."""
        return error_at_votes(self.curves[policy], self.baseline(plain).votes_per_clip)

    def relative_errors(self, policy: PolicyName, plain: bool = False) -> float | None:
        """``policy``'s errors as a share of the baseline's, at the baseline's votes per clip."""
        at, base = self.at_majority_votes(policy, plain), self.baseline(plain)
        if at is None or base.error_rate == 0.0:
            return None
        return at.error_rate / base.error_rate


def sweep_runs(
    params: SimulationParams,
    thresholds: Sequence[float] = DEFAULT_SWEEP_THRESHOLDS,
    policies: Sequence[PolicyName] = THRESHOLDED_POLICIES,
) -> list[SimulationParams]:
    """Every run of a sweep on ``params.seed``: ``majority`` under the production rules, the
    plain Common Voice rule, then each policy at each threshold (so that callers may spread
    the runs over processes)."""
    runs = [params.with_policy(PolicyName.MAJORITY), params.as_plain_common_voice()]
    runs += [params.with_policy(policy, t) for policy in policies for t in sorted(thresholds)]
    return runs


def combine(results: Iterable[SimulationResult]) -> Sweep:
    """A sweep from its runs' results (any number of seeds, one crowd kind)."""
    grouped: dict[tuple[PolicyName, float | None, bool], list[SimulationResult]] = {}
    kinds = set()
    for result in results:
        kinds.add(result.kind)
        key = (result.policy, result.accept_threshold, result.plain_common_voice)
        grouped.setdefault(key, []).append(result)
    rule = (PolicyName.MAJORITY, None, False)
    if len(kinds) != 1 or rule not in grouped:
        raise InvalidInput(
            "A sweep needs majority runs of exactly one crowd kind.", code="invalid_sweep"
        )
    points = {
        key: SweepPoint(key[0], key[1], tuple(sorted(group, key=lambda r: r.seed)))
        for key, group in grouped.items()
    }
    curves: dict[PolicyName, tuple[SweepPoint, ...]] = {}
    for (policy, _, _), point in sorted(
        points.items(), key=lambda item: (item[0][0], item[0][1] or 0.0)
    ):
        if policy is not PolicyName.MAJORITY:
            curves[policy] = (*curves.get(policy, ()), point)
    return Sweep(
        kind=kinds.pop(),
        majority=points[rule],
        common_voice=points.get((PolicyName.MAJORITY, None, True)),
        curves=curves,
    )


def sweep(
    params: SimulationParams,
    thresholds: Sequence[float] = DEFAULT_SWEEP_THRESHOLDS,
    seeds: Sequence[int] = (0,),
    policies: Sequence[PolicyName] = THRESHOLDED_POLICIES,
) -> Sweep:
    """The baselines and each of ``policies`` at each accept threshold, on each seed."""
    return combine(
        simulate(run)
        for seed in seeds
        for run in sweep_runs(replace(params, seed=seed), thresholds, policies)
    )
