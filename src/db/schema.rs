//! The tables, written by hand with the types both backends share
//! (text ids, UTC timestamps without zone, integers, booleans).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        password_confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    feeds (id) {
        id -> Text,
        url -> Text,
        title -> Nullable<Text>,
        site_url -> Nullable<Text>,
        etag -> Nullable<Text>,
        last_modified -> Nullable<Text>,
        last_checked_at -> Nullable<Timestamp>,
        last_success_at -> Nullable<Timestamp>,
        next_check_at -> Timestamp,
        error_count -> Integer,
        last_error -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        erroring_since -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        gone_at -> Nullable<Timestamp>,
        redirect_to -> Nullable<Text>,
        redirect_first_seen_at -> Nullable<Timestamp>,
        redirect_count -> Integer,
        lease_token -> Nullable<Text>,
        websub_hub -> Nullable<Text>,
        websub_topic -> Nullable<Text>,
        websub_secret -> Nullable<Text>,
        websub_state -> Text,
        websub_lease_until -> Nullable<Timestamp>,
        websub_requested_at -> Nullable<Timestamp>,
        websub_error -> Nullable<Text>,
        language -> Nullable<Text>,
        seen_keys -> Text,
        stopped_at -> Nullable<Timestamp>,
        stop_note -> Nullable<Text>,
    }
}

diesel::table! {
    posts (id) {
        id -> Text,
        feed_id -> Text,
        entry_key -> Text,
        title -> Text,
        url -> Nullable<Text>,
        summary -> Text,
        content_text -> Text,
        author -> Nullable<Text>,
        published_at -> Nullable<Timestamp>,
        categories -> Text,
        image_url -> Nullable<Text>,
        first_seen_at -> Timestamp,
        lead -> Text,
        headings -> Text,
        title_from_text -> Bool,
        summary_source -> Text,
        angles -> Nullable<Text>,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Text,
        user_id -> Text,
        feed_id -> Text,
        platforms -> Text,
        paused -> Bool,
        backfill -> Integer,
        backfilled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        variants -> Text,
        mastodon_limit -> Nullable<Integer>,
        utm -> Bool,
        include_keywords -> Text,
        exclude_keywords -> Text,
        paused_by_plan -> Bool,
        hashtags_always -> Text,
        hashtags_blocked -> Text,
        hashtags_kept -> Text,
        hashtag_caps -> Text,
        utm_source -> Text,
        utm_medium -> Text,
        utm_campaign -> Text,
        language -> Text,
        queue_mode -> Text,
        queue_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    captions (id) {
        id -> Text,
        user_id -> Text,
        subscription_id -> Text,
        post_id -> Text,
        platform -> Text,
        variant -> Text,
        body -> Text,
        length -> Integer,
        char_limit -> Integer,
        created_at -> Timestamp,
        error -> Nullable<Text>,
        status -> Text,
        posted_at -> Nullable<Timestamp>,
        original_body -> Nullable<Text>,
        edited_at -> Nullable<Timestamp>,
        served_at -> Nullable<Timestamp>,
        post_uri -> Nullable<Text>,
        post_url -> Nullable<Text>,
    }
}

diesel::table! {
    templates (id) {
        id -> Text,
        user_id -> Text,
        platform -> Text,
        variant -> Text,
        source -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    app_secrets (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    digest_settings (user_id) {
        user_id -> Text,
        frequency -> Text,
        batch_minutes -> Integer,
        weekday -> Integer,
        hour -> Integer,
        time_zone -> Text,
        enabled_at -> Timestamp,
        last_period_at -> Timestamp,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        platforms -> Text,
        contents -> Text,
    }
}

diesel::table! {
    digest_queue_captions (digest_id, caption_id) {
        digest_id -> Text,
        caption_id -> Text,
        scheduled_at -> Timestamp,
    }
}

diesel::table! {
    digests (id) {
        id -> Text,
        user_id -> Text,
        period_key -> Text,
        recipient -> Text,
        message_id -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
    }
}

diesel::table! {
    digest_captions (caption_id) {
        caption_id -> Text,
        digest_id -> Text,
    }
}

diesel::table! {
    posting_plans (user_id, platform) {
        user_id -> Text,
        platform -> Text,
        time_zone -> Text,
        times -> Text,
        max_per_day -> Integer,
        min_spacing_minutes -> Integer,
        quiet_dates -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    queue_entries (caption_id) {
        caption_id -> Text,
        user_id -> Text,
        platform -> Text,
        state -> Text,
        rank -> BigInt,
        due_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        last_error -> Nullable<Text>,
        media_id -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    connections (id) {
        id -> Text,
        user_id -> Text,
        platform -> Text,
        service_url -> Text,
        handle -> Text,
        secret_sealed -> Text,
        session_sealed -> Nullable<Text>,
        post_limit -> Nullable<Integer>,
        broken_at -> Nullable<Timestamp>,
        broken_reason -> Nullable<Text>,
        broken_mailed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    mastodon_apps (origin) {
        origin -> Text,
        client_id -> Text,
        client_secret_sealed -> Text,
        redirect_uri -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mastodon_authorizations (state_hash) {
        state_hash -> Text,
        user_id -> Text,
        origin -> Text,
        code_verifier_sealed -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(queue_entries -> captions (caption_id));
diesel::joinable!(posts -> feeds (feed_id));
diesel::joinable!(subscriptions -> feeds (feed_id));
diesel::joinable!(subscriptions -> users (user_id));
diesel::joinable!(captions -> posts (post_id));
diesel::joinable!(captions -> subscriptions (subscription_id));
diesel::joinable!(digest_captions -> digests (digest_id));
diesel::joinable!(digest_captions -> captions (caption_id));
diesel::joinable!(digest_queue_captions -> digests (digest_id));
diesel::joinable!(digest_queue_captions -> captions (caption_id));
diesel::joinable!(templates -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    feeds,
    posts,
    subscriptions,
    captions,
    app_secrets,
    digest_settings,
    digests,
    digest_captions,
    digest_queue_captions,
    templates,
    posting_plans,
    queue_entries,
    connections
);

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(api_tokens, users);

diesel::table! {
    caption_feed_keys (user_id) {
        user_id -> Text,
        feed_key -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(caption_feed_keys -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(caption_feed_keys, users);

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        user_id -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        last_caption_created_at -> Timestamp,
        last_caption_id -> Text,
        last_post_seen_at -> Timestamp,
        last_post_id -> Text,
        last_feed_error_at -> Timestamp,
        last_feed_error_id -> Text,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event -> Text,
        event_id -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        last_response_ms -> Nullable<Integer>,
        delivered_at -> Nullable<Timestamp>,
        gave_up_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_endpoints -> users (user_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, webhook_deliveries, users);

diesel::table! {
    outgoing_mail (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        kind -> Text,
        to_address -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Nullable<Text>,
        message_id -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(outgoing_mail -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(outgoing_mail, users);

diesel::table! {
    billing_accounts (user_id) {
        user_id -> Text,
        stripe_customer_id -> Nullable<Text>,
        stripe_subscription_id -> Nullable<Text>,
        plan -> Text,
        status -> Text,
        past_due_since -> Nullable<Timestamp>,
        state_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        event_type -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(billing_accounts -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(billing_accounts, users);
diesel::allow_tables_to_appear_in_same_query!(billing_accounts, subscriptions);

diesel::table! {
    post_images (post_id) {
        post_id -> Text,
        source_url -> Nullable<Text>,
        content_type -> Nullable<Text>,
        data -> Nullable<Binary>,
        error -> Nullable<Text>,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        fetched_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
    }
}

diesel::joinable!(post_images -> posts (post_id));
diesel::allow_tables_to_appear_in_same_query!(post_images, posts);
diesel::allow_tables_to_appear_in_same_query!(post_images, subscriptions);
diesel::allow_tables_to_appear_in_same_query!(post_images, captions);
diesel::allow_tables_to_appear_in_same_query!(post_images, feeds);

diesel::table! {
    desk_versions (user_id, scope) {
        user_id -> Text,
        scope -> Text,
        version -> BigInt,
    }
}

diesel::joinable!(desk_versions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(desk_versions, users);

diesel::table! {
    page_versions (user_id, scope) {
        user_id -> Text,
        scope -> Text,
        version -> BigInt,
    }
}

diesel::joinable!(page_versions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(page_versions, users);

diesel::table! {
    auth_failures (key) {
        key -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
    }
}

diesel::table! {
    mail_limits (address, kind) {
        address -> Text,
        kind -> Text,
        last_queued_at -> Timestamp,
    }
}

diesel::table! {
    checkout_sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(checkout_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(checkout_sessions, users);

diesel::table! {
    feed_templates (id) {
        id -> Text,
        user_id -> Text,
        subscription_id -> Text,
        platform -> Text,
        variant -> Text,
        source -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(feed_templates -> subscriptions (subscription_id));
diesel::allow_tables_to_appear_in_same_query!(feed_templates, subscriptions);

diesel::table! {
    operators (user_id) {
        user_id -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    admin_audit (id) {
        id -> Text,
        operator_id -> Nullable<Text>,
        action -> Text,
        account_id -> Nullable<Text>,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(operators -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(operators, users);
diesel::allow_tables_to_appear_in_same_query!(operators, sessions);
diesel::allow_tables_to_appear_in_same_query!(feed_templates, feeds);

diesel::table! {
    plan_changes (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        from_plan -> Text,
        from_status -> Text,
        to_plan -> Text,
        to_status -> Text,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    websub_leases (feed_id) {
        feed_id -> Text,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_token -> Nullable<Text>,
    }
}

diesel::joinable!(websub_leases -> feeds (feed_id));
diesel::allow_tables_to_appear_in_same_query!(websub_leases, feeds);
