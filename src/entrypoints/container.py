"""The composition root: one declarative container wires adapters into use cases.

Providers are synchronous; resources (the engine) are opened lazily and closed in the
Litestar lifespan / CLI. Tests override providers (``container.clock.override(...)``).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.audio.mutagen_inspector import MutagenAudioInspector
from adapters.auth.supabase_jwt import SupabaseJwtVerifier
from adapters.blobs.local import LocalBlobStore
from adapters.postgres.engine import create_engine
from adapters.postgres.outbox_queue import PostgresOutboxQueue
from adapters.postgres.profiles import PostgresProfileLookup
from adapters.postgres.push_deliveries import PostgresPushDeliveryQueue
from adapters.postgres.scheduled_tasks import PostgresTaskSchedule
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system import RandomIdGenerator, SystemClock, SystemRandom
from core.use_cases.analytics import CaptureAnalyticsEvent
from core.use_cases.clips import GetClip, ListMyClips, SubmitClip
from core.use_cases.gold import GetValidatorStanding, MarkGold, UnmarkGold
from core.use_cases.jobs import (
    ListJobs,
    ListScheduledTasks,
    PruneOutbox,
    RecoverExpiredLeases,
    RetryJob,
)
from core.use_cases.live import (
    EndStream,
    GetStream,
    HandleLiveWebhook,
    IssueStreamToken,
    ListChatMessages,
    ListLiveStreams,
    PostChatMessage,
    StartStream,
)
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
from core.use_cases.profiles import IdentifyCaller, SetMemberRole, UpdateOwnProfile
from core.use_cases.reward_rates import AddRewardRate, ListRewardRates
from core.use_cases.rewards import ReleaseMaturedEarnings, ReverseClipEarnings
from core.use_cases.validation import NextQueuePage, SkipClip, SubmitVote
from core.use_cases.wallet import GetMyBalance, ListMyTransactions
from entrypoints.http.rate_limit import make_write_rate_limiter
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
from entrypoints.rules import reward_rules as build_reward_rules
from entrypoints.rules import validation_rules as build_validation_rules
from entrypoints.settings import Settings


def _database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is not set (chorus dev starts an embedded database).")
    return settings.database_url.reveal()


def _secret(settings: Settings) -> str | None:
    return settings.supabase_jwt_secret.reveal() if settings.supabase_jwt_secret else None


def _redis_url(settings: Settings) -> str | None:
    return settings.redis_url.reveal() if settings.redis_url else None


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
    write_rate_limiter = providers.Singleton(
        make_write_rate_limiter,
        redis_url=providers.Callable(_redis_url, settings),
        limit=settings.provided.write_rate_limit_per_minute,
    )

    unit_of_work = providers.Factory(PostgresUnitOfWork, engine=engine)

    identify_caller = providers.Factory(
        IdentifyCaller,
        uow_factory=unit_of_work.provider,
        lookup=providers.Singleton(PostgresProfileLookup, engine=engine),
        clock=clock,
        ids=ids,
    )
    update_own_profile = providers.Factory(
        UpdateOwnProfile, uow_factory=unit_of_work.provider, clock=clock
    )
    set_member_role = providers.Factory(
        SetMemberRole, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )

    # Clips and validation
    randomness = providers.Singleton(SystemRandom)
    validation_rules = providers.Singleton(build_validation_rules, settings)
    reward_rules = providers.Singleton(build_reward_rules, settings)
    blob_store = providers.Singleton(LocalBlobStore, root=settings.provided.blob_root)
    audio_inspector = providers.Singleton(MutagenAudioInspector)
    submit_clip = providers.Factory(
        SubmitClip,
        uow_factory=unit_of_work.provider,
        blobs=blob_store,
        inspector=audio_inspector,
        clock=clock,
        ids=ids,
        rules=validation_rules,
    )
    get_clip = providers.Factory(GetClip, uow_factory=unit_of_work.provider)
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
        uow_factory=unit_of_work.provider,
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

    # Money: balance, history, reward rates, release and reversal of earnings
    my_balance = providers.Factory(
        GetMyBalance, uow_factory=unit_of_work.provider, rules=reward_rules
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
        PostChatMessage, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    list_chat_messages = providers.Factory(ListChatMessages, uow_factory=unit_of_work.provider)
    handle_live_webhook = providers.Factory(
        HandleLiveWebhook,
        uow_factory=unit_of_work.provider,
        clock=clock,
        ids=ids,
        verifier=providers.Callable(require_live, live_webhooks),
    )

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
