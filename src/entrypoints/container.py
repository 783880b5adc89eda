"""The composition root: one declarative container wires adapters into use cases.

Providers are synchronous; resources (the engine) are opened lazily and closed in the
Litestar lifespan / CLI. Tests override providers (``container.clock.override(...)``).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.audio.mutagen_inspector import MutagenAudioInspector
from adapters.auth.supabase_jwt import SupabaseJwtVerifier
from adapters.postgres.consensus_model import PostgresConsensusModelStore
from adapters.postgres.engine import create_engine
from adapters.postgres.invariants import PostgresInvariantChecks
from adapters.postgres.ledger import PostgresBalanceLookup
from adapters.postgres.outbox_queue import PostgresOutboxQueue
from adapters.postgres.profiles import PostgresProfileLookup
from adapters.postgres.push_deliveries import PostgresPushDeliveryQueue
from adapters.postgres.scheduled_tasks import PostgresTaskSchedule
from adapters.postgres.sync_feed import PostgresChangeFeed
from adapters.postgres.unit_of_work import PostgresAutocommitUnitOfWork, PostgresUnitOfWork
from adapters.system import RandomIdGenerator, SystemClock, SystemRandom
from core.use_cases.analytics import CaptureAnalyticsEvent
from core.use_cases.badges import (
    AwardBadge,
    AwardStandingBadges,
    CreateBadge,
    GetBadge,
    GetMemberBadges,
    ListAllBadges,
    ListBadges,
    UpdateBadge,
)
from core.use_cases.clips import GetClip, ListMyClips, SubmitClip, ViewClip
from core.use_cases.consensus_model import RefitConsensusModel
from core.use_cases.doctor import CheckInvariants
from core.use_cases.fraud import FlagActivityBursts
from core.use_cases.gold import GetMyStanding, GetValidatorStanding, MarkGold, UnmarkGold
from core.use_cases.jobs import (
    ListJobs,
    ListScheduledTasks,
    PruneOutbox,
    RecoverExpiredLeases,
    RetryJob,
)
from core.use_cases.leaderboards import GetLeaderboard
from core.use_cases.live import (
    CloseLiveRoom,
    EndStream,
    GetStream,
    HandleLiveWebhook,
    IssueStreamToken,
    ListChatMessages,
    ListLiveStreams,
    PostChatMessage,
    StartStream,
)
from core.use_cases.member_stats import (
    GetMyStats,
    PruneCountedEvents,
    RecordMemberActivity,
    SetWeeklyGoal,
)
from core.use_cases.moderation import (
    CreateFlag,
    DecideModeration,
    ReadModerationAudit,
    ReadModerationQueue,
)
from core.use_cases.moderation_standing import GetMemberStanding
from core.use_cases.notifications import (
    CheckPushReceipts,
    GetNotificationPreferences,
    ListMyPushTokens,
    ListNotifications,
    MarkAllNotificationsRead,
    MarkNotificationRead,
    NotifyMember,
    PrunePushDeliveries,
    RegisterPushToken,
    ResolveStalledPushes,
    SendQueuedPushes,
    UnregisterPushToken,
    UpdateNotificationPreferences,
)
from core.use_cases.payout_destinations import (
    AddPayoutDestination,
    ListMyPayoutDestinations,
    RemovePayoutDestination,
    ResolvePayoutAccount,
)
from core.use_cases.payout_transfers import (
    ApproveTransfer,
    CancelHeldPayout,
    HandleTransferWebhook,
    ReconcilePayouts,
    RetryPayout,
    SendPayout,
)
from core.use_cases.payouts import GetMyPayout, ListMyPayouts, ListPayouts, RequestPayout
from core.use_cases.profiles import IdentifyCaller, SetMemberRole, UpdateOwnProfile
from core.use_cases.reward_rates import AddRewardRate, ListRewardRates
from core.use_cases.rewards import ReleaseMaturedEarnings, ReverseClipEarnings
from core.use_cases.sync import PruneSyncState, PullChanges, PushOps, ReserveOfflineBatch
from core.use_cases.validation import NextQueuePage, SkipClip, SubmitVote
from core.use_cases.wallet import GetMyBalance, ListMyTransactions
from entrypoints.blobs import make_blob_store
from entrypoints.http.sync_ops import build_op_handlers, problem_of
from entrypoints.live import make_live_video, make_live_webhooks, require_live
from entrypoints.notifications import (
    days,
    make_analytics,
    make_backoff,
    make_jitter,
    make_push_sender,
    make_worker_id,
    seconds,
)
from entrypoints.payouts import (
    make_payout_gateways,
    make_paystack_webhooks,
    make_stripe_webhooks,
    payout_rules,
    reconcile_after,
    require_configured,
)
from entrypoints.rate_limits import make_write_rate_limiter
from entrypoints.rules import fraud_rules as build_fraud_rules
from entrypoints.rules import offline_rules as build_offline_rules
from entrypoints.rules import reward_rules as build_reward_rules
from entrypoints.rules import validation_rules as build_validation_rules
from entrypoints.screening import make_screener
from entrypoints.settings import Settings


def _database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is not set (chorus dev starts an embedded database).")
    return settings.database_url.reveal()


def _secret(settings: Settings) -> str | None:
    return settings.supabase_jwt_secret.reveal() if settings.supabase_jwt_secret else None


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    engine = providers.Singleton(
        create_engine,
        database_url=providers.Callable(_database_url, settings),
        pool_size=settings.provided.db_pool_size,
        max_overflow=settings.provided.db_max_overflow,
    )
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIdGenerator)
    token_verifier = providers.Singleton(
        SupabaseJwtVerifier,
        hs256_secret=providers.Callable(_secret, settings),
        jwks_url=settings.provided.jwks_url,
        audience=settings.provided.jwt_audience,
        issuer=settings.provided.expected_issuer,
    )
    write_rate_limiter = providers.Singleton(make_write_rate_limiter, settings, engine)

    unit_of_work = providers.Factory(PostgresUnitOfWork, engine=engine)
    # The queue reads, then records what it served with one INSERT: no transaction needed.
    autocommit_unit_of_work = providers.Factory(PostgresAutocommitUnitOfWork, engine=engine)
    # Screening of what members write (docs/moderation.md): rules, or a service in front.
    screener = providers.Singleton(make_screener, settings)

    identify_caller = providers.Factory(
        IdentifyCaller,
        uow_factory=unit_of_work.provider,
        lookup=providers.Singleton(PostgresProfileLookup, engine=engine),
        clock=clock,
        ids=ids,
    )
    update_own_profile = providers.Factory(
        UpdateOwnProfile, uow_factory=unit_of_work.provider, clock=clock, screener=screener
    )
    set_member_role = providers.Factory(
        SetMemberRole, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )

    # Clips and validation
    randomness = providers.Singleton(SystemRandom)
    validation_rules = providers.Singleton(build_validation_rules, settings)
    reward_rules = providers.Singleton(build_reward_rules, settings)
    blob_store = providers.Singleton(make_blob_store, settings)
    audio_inspector = providers.Singleton(MutagenAudioInspector)
    submit_clip = providers.Factory(
        SubmitClip,
        uow_factory=unit_of_work.provider,
        blobs=blob_store,
        inspector=audio_inspector,
        clock=clock,
        ids=ids,
        rules=validation_rules,
        screener=screener,
    )
    get_clip = providers.Factory(GetClip, uow_factory=unit_of_work.provider)
    view_clip = providers.Factory(ViewClip, uow_factory=unit_of_work.provider)
    list_my_clips = providers.Factory(ListMyClips, uow_factory=unit_of_work.provider)
    submit_vote = providers.Factory(
        SubmitVote,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        rules=validation_rules,
        rewards=reward_rules,
    )
    skip_clip = providers.Factory(SkipClip, uow_factory=unit_of_work.provider, clock=clock)
    next_queue_page = providers.Factory(
        NextQueuePage,
        uow_factory=autocommit_unit_of_work.provider,
        clock=clock,
        ids=ids,
        random=randomness,
        rules=validation_rules,
    )
    mark_gold = providers.Factory(
        MarkGold,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        rules=validation_rules,
        rewards=reward_rules,
    )
    unmark_gold = providers.Factory(UnmarkGold, uow_factory=unit_of_work.provider)
    validator_standing = providers.Factory(
        GetValidatorStanding, uow_factory=unit_of_work.provider, rules=validation_rules
    )
    my_standing = providers.Factory(GetMyStanding, uow_factory=unit_of_work.provider)
    consensus_model_store = providers.Singleton(PostgresConsensusModelStore, engine=engine)
    refit_consensus_model = providers.Factory(
        RefitConsensusModel, store=consensus_model_store, clock=clock, rules=validation_rules
    )

    # Money: balance, history, reward rates, release and reversal of earnings
    my_balance = providers.Factory(
        GetMyBalance,
        balances=providers.Singleton(PostgresBalanceLookup, engine=engine),
        rules=reward_rules,
    )
    my_transactions = providers.Factory(ListMyTransactions, uow_factory=unit_of_work.provider)
    list_reward_rates = providers.Factory(ListRewardRates, uow_factory=unit_of_work.provider)
    add_reward_rate = providers.Factory(
        AddRewardRate, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    release_earnings = providers.Factory(
        ReleaseMaturedEarnings,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        rules=reward_rules,
    )
    reverse_clip_earnings = providers.Factory(
        ReverseClipEarnings, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )

    # Live streams (LiveKit): the adapters are None when LiveKit is not configured, and the
    # use cases that need them then fail with 503 ``live_unavailable``.
    live_video = providers.Singleton(make_live_video, settings)
    live_webhooks = providers.Singleton(make_live_webhooks, settings)
    start_stream = providers.Factory(
        StartStream,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        video=providers.Callable(require_live, live_video),
    )
    issue_stream_token = providers.Factory(
        IssueStreamToken,
        uow_factory=unit_of_work.provider,
        video=providers.Callable(require_live, live_video),
    )
    end_stream = providers.Factory(
        EndStream,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        video=providers.Callable(require_live, live_video),
    )
    list_live_streams = providers.Factory(ListLiveStreams, uow_factory=unit_of_work.provider)
    get_stream = providers.Factory(GetStream, uow_factory=unit_of_work.provider)
    post_chat_message = providers.Factory(
        PostChatMessage, uow_factory=unit_of_work.provider, clock=clock, ids=ids, screener=screener
    )
    list_chat_messages = providers.Factory(ListChatMessages, uow_factory=unit_of_work.provider)
    handle_live_webhook = providers.Factory(
        HandleLiveWebhook,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        verifier=providers.Callable(require_live, live_webhooks),
    )
    close_live_room = providers.Factory(CloseLiveRoom, video=live_video)

    # Background work, push notifications and analytics (docs/worker.md, docs/notifications.md)
    worker_id = providers.Singleton(make_worker_id)
    jitter = providers.Singleton(make_jitter)
    backoff = providers.Singleton(make_backoff, settings)
    worker_lease = providers.Callable(seconds, settings.provided.worker.lease_seconds)
    retention = providers.Callable(days, settings.provided.worker.retention_days)
    push_sender = providers.Singleton(make_push_sender, settings)
    analytics = providers.Singleton(make_analytics, settings)
    outbox_queue = providers.Singleton(PostgresOutboxQueue, engine=engine)
    task_schedule = providers.Singleton(PostgresTaskSchedule, engine=engine)
    push_queue = providers.Singleton(PostgresPushDeliveryQueue, engine=engine)
    register_push_token = providers.Factory(
        RegisterPushToken, uow_factory=unit_of_work.provider, clock=clock
    )
    unregister_push_token = providers.Factory(
        UnregisterPushToken, uow_factory=unit_of_work.provider
    )
    list_push_tokens = providers.Factory(ListMyPushTokens, uow_factory=unit_of_work.provider)
    list_notifications = providers.Factory(ListNotifications, uow_factory=unit_of_work.provider)
    mark_notification_read = providers.Factory(
        MarkNotificationRead, uow_factory=unit_of_work.provider, clock=clock
    )
    mark_all_notifications_read = providers.Factory(
        MarkAllNotificationsRead, uow_factory=unit_of_work.provider, clock=clock
    )
    notification_preferences = providers.Factory(
        GetNotificationPreferences, uow_factory=unit_of_work.provider
    )
    update_notification_preferences = providers.Factory(
        UpdateNotificationPreferences, uow_factory=unit_of_work.provider, clock=clock
    )
    notify_member = providers.Factory(
        NotifyMember, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    capture_analytics = providers.Factory(CaptureAnalyticsEvent, analytics=analytics)
    send_queued_pushes = providers.Factory(
        SendQueuedPushes,
        queue=push_queue,
        sender=push_sender,
        clock=clock,
        policy=backoff,
        random=jitter,
        worker=worker_id,
    )
    check_push_receipts = providers.Factory(
        CheckPushReceipts,
        queue=push_queue,
        sender=push_sender,
        clock=clock,
        delay=providers.Callable(seconds, settings.provided.worker.receipt_delay_seconds),
    )
    resolve_stalled_pushes = providers.Factory(
        ResolveStalledPushes, queue=push_queue, clock=clock, lease=worker_lease
    )
    prune_push_deliveries = providers.Factory(
        PrunePushDeliveries, queue=push_queue, clock=clock, retention=retention
    )
    recover_expired_leases = providers.Factory(
        RecoverExpiredLeases,
        queue=outbox_queue,
        clock=clock,
        max_attempts=settings.provided.worker.max_attempts,
    )
    prune_outbox = providers.Factory(
        PruneOutbox, queue=outbox_queue, clock=clock, retention=retention
    )
    list_jobs = providers.Factory(ListJobs, admin=outbox_queue)
    retry_job = providers.Factory(RetryJob, admin=outbox_queue, clock=clock)
    list_scheduled_tasks = providers.Factory(ListScheduledTasks, schedule=task_schedule)

    # Payouts (docs/payouts.md): providers are singletons (one HTTP client each); a provider
    # that is not configured makes its endpoints answer 503 ``payouts_unavailable``.
    payout_gateways = providers.Singleton(make_payout_gateways, settings)
    paystack_webhooks = providers.Singleton(make_paystack_webhooks, settings)
    stripe_webhooks = providers.Singleton(make_stripe_webhooks, settings)
    request_payout = providers.Factory(
        RequestPayout,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        rules=providers.Singleton(payout_rules, settings),
    )
    list_my_payouts = providers.Factory(ListMyPayouts, uow_factory=unit_of_work.provider)
    get_my_payout = providers.Factory(GetMyPayout, uow_factory=unit_of_work.provider)
    list_payouts = providers.Factory(ListPayouts, uow_factory=unit_of_work.provider)
    resolve_payout_account = providers.Factory(ResolvePayoutAccount, gateways=payout_gateways)
    add_payout_destination = providers.Factory(
        AddPayoutDestination,
        uow_factory=unit_of_work.provider,
        gateways=payout_gateways,
        clock=clock,
        ids=ids,
    )
    list_payout_destinations = providers.Factory(
        ListMyPayoutDestinations, uow_factory=unit_of_work.provider
    )
    remove_payout_destination = providers.Factory(
        RemovePayoutDestination, uow_factory=unit_of_work.provider, clock=clock
    )
    send_payout = providers.Factory(
        SendPayout,
        uow_factory=unit_of_work.provider,
        gateways=payout_gateways,
        clock=clock,
        ids=ids,
    )
    reconcile_payouts = providers.Factory(
        ReconcilePayouts,
        uow_factory=unit_of_work.provider,
        sender=send_payout,
        clock=clock,
        older_than=providers.Callable(reconcile_after, settings),
    )
    retry_payout = providers.Factory(
        RetryPayout, uow_factory=unit_of_work.provider, sender=send_payout
    )
    handle_paystack_webhook = providers.Factory(
        HandleTransferWebhook,
        uow_factory=unit_of_work.provider,
        verifier=providers.Callable(
            require_configured, paystack_webhooks, "Paystack (PAYSTACK_SECRET_KEY)"
        ),
        clock=clock,
        ids=ids,
    )
    handle_stripe_webhook = providers.Factory(
        HandleTransferWebhook,
        uow_factory=unit_of_work.provider,
        verifier=providers.Callable(
            require_configured, stripe_webhooks, "Stripe webhooks (STRIPE_WEBHOOK_SECRET)"
        ),
        clock=clock,
        ids=ids,
    )
    approve_paystack_transfer = providers.Factory(
        ApproveTransfer,
        uow_factory=unit_of_work.provider,
        verifier=providers.Callable(
            require_configured, paystack_webhooks, "Paystack (PAYSTACK_SECRET_KEY)"
        ),
    )
    # Badges, member statistics, goals and leaderboards (docs/badges.md)
    list_badges = providers.Factory(ListBadges, uow_factory=unit_of_work.provider)
    list_all_badges = providers.Factory(ListAllBadges, uow_factory=unit_of_work.provider)
    get_badge = providers.Factory(GetBadge, uow_factory=unit_of_work.provider)
    create_badge = providers.Factory(
        CreateBadge, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    update_badge = providers.Factory(UpdateBadge, uow_factory=unit_of_work.provider, clock=clock)
    award_badge = providers.Factory(
        AwardBadge, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    member_badges = providers.Factory(
        GetMemberBadges, uow_factory=unit_of_work.provider, clock=clock
    )
    award_standing_badges = providers.Factory(
        AwardStandingBadges, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    record_member_activity = providers.Factory(
        RecordMemberActivity, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    my_stats = providers.Factory(GetMyStats, uow_factory=unit_of_work.provider, clock=clock)
    set_weekly_goal = providers.Factory(
        SetWeeklyGoal, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    prune_counted_events = providers.Factory(
        PruneCountedEvents, uow_factory=unit_of_work.provider, clock=clock, retention=retention
    )
    leaderboard = providers.Factory(GetLeaderboard, uow_factory=unit_of_work.provider, clock=clock)
    # Operators: the stored data's invariants (chorus doctor)
    invariant_checks = providers.Singleton(PostgresInvariantChecks, engine=engine)
    check_invariants = providers.Factory(
        CheckInvariants, checks=invariant_checks, clock=clock, push_lease=worker_lease
    )
    cancel_held_payout = providers.Factory(
        CancelHeldPayout,
        uow_factory=unit_of_work.provider,
        gateways=payout_gateways,
        clock=clock,
        ids=ids,
    )

    # Moderation and fraud defences (docs/moderation.md)
    fraud_rules = providers.Singleton(build_fraud_rules, settings)
    create_flag = providers.Factory(
        CreateFlag,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        voting=submit_vote,
        threshold=settings.provided.moderation.flag_threshold,
    )
    moderation_queue = providers.Factory(ReadModerationQueue, uow_factory=unit_of_work.provider)
    decide_moderation = providers.Factory(
        DecideModeration, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    moderation_audit = providers.Factory(ReadModerationAudit, uow_factory=unit_of_work.provider)
    member_standing = providers.Factory(
        GetMemberStanding, uow_factory=unit_of_work.provider, rules=validation_rules
    )
    flag_activity_bursts = providers.Factory(
        FlagActivityBursts,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        rules=fraud_rules,
    )

    # Offline sync (docs/sync.md): pushed operations go through the online use cases above.
    offline_rules = providers.Singleton(build_offline_rules, settings)
    sync_op_handlers = providers.Singleton(
        build_op_handlers,
        submit_vote=submit_vote.provider,
        skip_clip=skip_clip.provider,
        mark_notification_read=mark_notification_read.provider,
        update_own_profile=update_own_profile.provider,
        create_flag=create_flag.provider,
    )
    push_ops = providers.Factory(
        PushOps,
        uow_factory=unit_of_work.provider,
        clock=clock,
        handlers=sync_op_handlers,
        problem_of=providers.Object(problem_of),
    )
    reserve_offline_batch = providers.Factory(
        ReserveOfflineBatch,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        random=randomness,
        rules=validation_rules,
        offline=offline_rules,
    )
    change_feed = providers.Singleton(PostgresChangeFeed, engine=engine)
    pull_changes = providers.Factory(
        PullChanges, feed=change_feed, clock=clock, rewards=reward_rules
    )
    prune_sync_state = providers.Factory(
        PruneSyncState,
        uow_factory=unit_of_work.provider,
        clock=clock,
        retention=providers.Callable(days, settings.provided.sync_op_retention_days),
    )
