// @generated automatically by Diesel CLI.

diesel::table! {
    account_audience (account_id, day, dimension, key) {
        account_id -> Int8,
        day -> Date,
        dimension -> Text,
        key -> Text,
        followers -> Int8,
    }
}

diesel::table! {
    account_daily_insights (account_id, day) {
        account_id -> Int8,
        day -> Date,
        reach -> Nullable<Int8>,
        views -> Nullable<Int8>,
        accounts_engaged -> Nullable<Int8>,
        total_interactions -> Nullable<Int8>,
        likes -> Nullable<Int8>,
        comments -> Nullable<Int8>,
        saves -> Nullable<Int8>,
        shares -> Nullable<Int8>,
        replies -> Nullable<Int8>,
        reposts -> Nullable<Int8>,
        follows -> Nullable<Int8>,
        unfollows -> Nullable<Int8>,
        profile_views -> Nullable<Int8>,
        website_clicks -> Nullable<Int8>,
        profile_links_taps -> Nullable<Int8>,
        follower_net_change -> Nullable<Int8>,
        captured_at -> Timestamptz,
    }
}

diesel::table! {
    account_snapshots (id) {
        id -> Int8,
        account_id -> Int8,
        captured_at -> Timestamptz,
        followers_count -> Nullable<Int8>,
        follows_count -> Nullable<Int8>,
        media_count -> Nullable<Int8>,
    }
}

diesel::table! {
    account_versions (account_id) {
        account_id -> Int8,
        n -> Int8,
    }
}

diesel::table! {
    alert_events (id) {
        id -> Int8,
        rule_id -> Nullable<Int8>,
        kind -> Text,
        account_id -> Nullable<Int8>,
        subject -> Text,
        fired_at -> Timestamptz,
        title -> Text,
        detail -> Text,
        email -> Text,
        email_error -> Nullable<Text>,
        webhook -> Text,
        webhook_error -> Nullable<Text>,
        attempts -> Int2,
        tried_at -> Timestamptz,
    }
}

diesel::table! {
    alert_rules (id) {
        id -> Int8,
        kind -> Text,
        account_id -> Nullable<Int8>,
        threshold -> Int4,
        quiet_hours -> Int4,
        recipients -> Array<Nullable<Text>>,
        webhook_url -> Nullable<Text>,
        enabled -> Bool,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Int8,
        name -> Text,
        nonce -> Text,
        scope -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    comment_actions (id) {
        id -> Int8,
        account_id -> Int8,
        comment_id -> Text,
        action -> Text,
        user_id -> Nullable<Int8>,
        rule_id -> Nullable<Int8>,
        actor -> Text,
        reply_id -> Nullable<Text>,
        detail -> Text,
        acted_at -> Timestamptz,
        undone_at -> Nullable<Timestamptz>,
        undone_by -> Nullable<Text>,
    }
}

diesel::table! {
    comment_rules (id) {
        id -> Int8,
        name -> Text,
        account_id -> Nullable<Int8>,
        match_kind -> Text,
        pattern -> Text,
        action -> Text,
        saved_reply_id -> Nullable<Int8>,
        per_hour -> Int4,
        enabled -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    comments (id) {
        id -> Int8,
        account_id -> Int8,
        comment_id -> Text,
        media_id -> Text,
        parent_id -> Nullable<Text>,
        username -> Nullable<Text>,
        text -> Text,
        commented_at -> Timestamptz,
        source -> Text,
        received_at -> Timestamptz,
        hidden -> Bool,
        flagged -> Bool,
        rules_checked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    competitor_days (competitor_id, day) {
        competitor_id -> Int8,
        day -> Date,
        followers_count -> Nullable<Int8>,
        media_count -> Nullable<Int8>,
    }
}

diesel::table! {
    competitor_posts (competitor_id, media_id) {
        competitor_id -> Int8,
        media_id -> Text,
        posted_at -> Timestamptz,
        media_type -> Nullable<Text>,
        media_product_type -> Nullable<Text>,
        like_count -> Nullable<Int8>,
        comments_count -> Nullable<Int8>,
        permalink -> Nullable<Text>,
        read_at -> Timestamptz,
    }
}

diesel::table! {
    competitors (id) {
        id -> Int8,
        username -> Text,
        status -> Text,
        ig_id -> Nullable<Text>,
        name -> Nullable<Text>,
        followers_count -> Nullable<Int8>,
        media_count -> Nullable<Int8>,
        read_at -> Nullable<Timestamptz>,
        tried_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        added_by -> Nullable<Int8>,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    data_version (id) {
        id -> Bool,
        n -> Int8,
        shares -> Int8,
        common -> Int8,
    }
}

diesel::table! {
    dropped_metrics (media_product_type, media_type, metric) {
        media_product_type -> Text,
        media_type -> Text,
        metric -> Text,
        reason -> Text,
        dropped_at -> Timestamptz,
    }
}

diesel::table! {
    ig_accounts (id) {
        id -> Int8,
        flavour -> Text,
        ig_user_id -> Text,
        facebook_page_id -> Nullable<Text>,
        username -> Text,
        name -> Nullable<Text>,
        profile_picture_url -> Nullable<Text>,
        followers_count -> Nullable<Int8>,
        follows_count -> Nullable<Int8>,
        media_count -> Nullable<Int8>,
        status -> Text,
        status_reason -> Nullable<Text>,
        token_ciphertext -> Nullable<Bytea>,
        token_nonce -> Nullable<Bytea>,
        token_key_version -> Nullable<Int4>,
        token_expires_at -> Nullable<Timestamptz>,
        token_refreshed_at -> Nullable<Timestamptz>,
        last_synced_at -> Nullable<Timestamptz>,
        paused_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        app_user_id -> Nullable<Text>,
        granted_scopes -> Array<Nullable<Text>>,
        disconnected_at -> Nullable<Timestamptz>,
        audience_read_at -> Nullable<Timestamptz>,
        snapshot_writes -> Int8,
    }
}

diesel::table! {
    mentions (id) {
        id -> Int8,
        account_id -> Int8,
        media_id -> Text,
        comment_id -> Text,
        username -> Nullable<Text>,
        text -> Nullable<Text>,
        permalink -> Nullable<Text>,
        mentioned_at -> Timestamptz,
        received_at -> Timestamptz,
        fetched_at -> Nullable<Timestamptz>,
        fetch_problem -> Nullable<Text>,
    }
}

diesel::table! {
    meta_requests (id) {
        id -> Int8,
        kind -> Text,
        flavour -> Text,
        confirmation_code -> Nullable<Text>,
        outcome -> Text,
        accounts_affected -> Int4,
        issued_at -> Nullable<Timestamptz>,
        received_at -> Timestamptz,
        completed_at -> Timestamptz,
        signature_hash -> Bytea,
    }
}

diesel::table! {
    oauth_pending (id) {
        id -> Bytea,
        session_id -> Text,
        token_ciphertext -> Bytea,
        token_nonce -> Bytea,
        token_key_version -> Int4,
        token_expires_at -> Nullable<Timestamptz>,
        app_user_id -> Nullable<Text>,
        granted_scopes -> Array<Nullable<Text>>,
        candidates -> Jsonb,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    oauth_states (state_hash) {
        state_hash -> Bytea,
        session_id -> Text,
        flavour -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    post_checkpoints (post_id, checkpoint_hours) {
        post_id -> Int8,
        checkpoint_hours -> Int4,
        captured_at -> Timestamptz,
        reach -> Nullable<Int8>,
        views -> Nullable<Int8>,
        interactions -> Nullable<Int8>,
    }
}

diesel::table! {
    post_scores (post_id) {
        post_id -> Int8,
        account_id -> Int8,
        format -> Text,
        latest_captured_at -> Nullable<Timestamptz>,
        reach -> Nullable<Int8>,
        views -> Nullable<Int8>,
        likes -> Nullable<Int8>,
        comments -> Nullable<Int8>,
        saved -> Nullable<Int8>,
        shares -> Nullable<Int8>,
        interactions -> Nullable<Int8>,
        followers_at_posting -> Nullable<Int8>,
        rate_by_reach -> Nullable<Float8>,
        rate_by_followers -> Nullable<Float8>,
        rate_by_views -> Nullable<Float8>,
        impact -> Nullable<Int2>,
        impact_cohort -> Int4,
        checkpoint_hours -> Nullable<Int4>,
        computed_at -> Timestamptz,
    }
}

diesel::table! {
    post_snapshots (id) {
        id -> Int8,
        post_id -> Int8,
        captured_at -> Timestamptz,
        views -> Nullable<Int8>,
        reach -> Nullable<Int8>,
        likes -> Nullable<Int8>,
        comments -> Nullable<Int8>,
        saved -> Nullable<Int8>,
        shares -> Nullable<Int8>,
        total_interactions -> Nullable<Int8>,
        follows -> Nullable<Int8>,
        profile_visits -> Nullable<Int8>,
        profile_activity -> Nullable<Int8>,
        replies -> Nullable<Int8>,
        navigation -> Nullable<Int8>,
        reposts -> Nullable<Int8>,
        ig_reels_avg_watch_time_ms -> Nullable<Int8>,
        ig_reels_video_view_total_time_ms -> Nullable<Int8>,
        reels_skip_rate -> Nullable<Float8>,
        facebook_views -> Nullable<Int8>,
        crossposted_views -> Nullable<Int8>,
    }
}

diesel::table! {
    post_thumbnails (post_id) {
        post_id -> Int8,
        image -> Nullable<Bytea>,
        fetched_at -> Timestamptz,
        problem -> Nullable<Text>,
    }
}

diesel::table! {
    posts (id) {
        id -> Int8,
        account_id -> Int8,
        media_id -> Text,
        caption -> Nullable<Text>,
        media_type -> Text,
        media_product_type -> Nullable<Text>,
        permalink -> Nullable<Text>,
        posted_at -> Timestamptz,
        hashtags -> Array<Nullable<Text>>,
        removed_at -> Nullable<Timestamptz>,
        insights_unavailable -> Nullable<Text>,
        first_seen_at -> Timestamptz,
        updated_at -> Timestamptz,
        comments_seen -> Nullable<Int4>,
    }
}

diesel::table! {
    publication_events (id) {
        id -> Int8,
        publication_id -> Int8,
        at -> Timestamptz,
        status -> Text,
        message -> Text,
    }
}

diesel::table! {
    publication_media (id) {
        id -> Int8,
        publication_id -> Int8,
        position -> Int2,
        file_name -> Text,
        content_type -> Text,
        bytes -> Int8,
        width -> Nullable<Int4>,
        height -> Nullable<Int4>,
        duration_ms -> Nullable<Int8>,
        alt_text -> Nullable<Text>,
        container_id -> Nullable<Text>,
        removed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    publications (id) {
        id -> Int8,
        account_id -> Int8,
        kind -> Text,
        status -> Text,
        caption -> Text,
        first_comment -> Nullable<Text>,
        due_at -> Timestamptz,
        next_attempt_at -> Nullable<Timestamptz>,
        attempts -> Int4,
        container_id -> Nullable<Text>,
        container_created_at -> Nullable<Timestamptz>,
        publish_sent_at -> Nullable<Timestamptz>,
        media_id -> Nullable<Text>,
        published_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        claim -> Nullable<Text>,
        claimed_until -> Nullable<Timestamptz>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    purges (id) {
        id -> Int8,
        ran_at -> Timestamptz,
        posts -> Int8,
        snapshots -> Int8,
        account_snapshots -> Int8,
        daily_insights -> Int8,
        sync_runs -> Int8,
        meta_requests -> Int8,
        dialogs -> Int8,
        sessions -> Int8,
        sign_ins -> Int8,
        audience -> Int8,
        reports -> Int8,
        alerts -> Int8,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Int8,
        user_id -> Int8,
        code_hash -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    report_schedules (id) {
        id -> Int8,
        account_id -> Nullable<Int8>,
        cadence -> Text,
        recipients -> Array<Nullable<Text>>,
        time_zone -> Text,
        send_hour -> Int2,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    saved_replies (id) {
        id -> Int8,
        title -> Text,
        body -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sent_reports (id) {
        id -> Int8,
        schedule_id -> Nullable<Int8>,
        account_id -> Nullable<Int8>,
        account_ids -> Array<Nullable<Int8>>,
        cadence -> Text,
        first_day -> Date,
        last_day -> Date,
        made_by_hand -> Bool,
        made_by -> Nullable<Int8>,
        made_at -> Timestamptz,
        recipients -> Array<Nullable<Text>>,
        delivery -> Text,
        mail_error -> Nullable<Text>,
        attempts -> Int2,
        tried_at -> Timestamptz,
        content -> Jsonb,
        pdf -> Bytea,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Int8,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        user_agent -> Text,
        address -> Text,
    }
}

diesel::table! {
    settings (id) {
        id -> Bool,
        lookback_days -> Nullable<Int4>,
        sync_schedule -> Text,
        timezone -> Text,
        updated_at -> Timestamptz,
        young_post_hours -> Int4,
        young_every_minutes -> Int4,
        middle_post_days -> Int4,
        middle_every_minutes -> Int4,
        old_every_minutes -> Int4,
        token_refresh_days -> Int4,
        engagement_definition -> Text,
        sync_run_keep_days -> Int4,
        operator_contact -> Text,
        second_factor_for_everyone -> Bool,
    }
}

diesel::table! {
    shared_links (id) {
        id -> Int8,
        account_id -> Int8,
        token_hash -> Bytea,
        label -> Text,
        rolling_days -> Nullable<Int4>,
        first_day -> Nullable<Date>,
        last_day -> Nullable<Date>,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
        views -> Int8,
        last_viewed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sign_in_challenges (id) {
        id -> Text,
        user_id -> Int8,
        session_version -> Int4,
        next_path -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        failures -> Int4,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> Int8,
        account_id -> Int8,
        trigger -> Text,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        outcome -> Text,
        api_calls -> Int4,
        posts_seen -> Int4,
        snapshots_written -> Int4,
        error_kind -> Nullable<Text>,
        error_message -> Nullable<Text>,
    }
}

diesel::table! {
    totp_enrolments (user_id) {
        user_id -> Int8,
        ciphertext -> Bytea,
        nonce -> Bytea,
        key_version -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        role -> Text,
        password_hash -> Text,
        session_version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        totp_ciphertext -> Nullable<Bytea>,
        totp_nonce -> Nullable<Bytea>,
        totp_key_version -> Nullable<Int4>,
        totp_enabled_at -> Nullable<Timestamptz>,
        totp_last_step -> Int8,
    }
}

diesel::table! {
    webhook_events (digest) {
        digest -> Bytea,
        field -> Text,
        received_at -> Timestamptz,
    }
}

diesel::joinable!(account_audience -> ig_accounts (account_id));
diesel::joinable!(account_daily_insights -> ig_accounts (account_id));
diesel::joinable!(account_snapshots -> ig_accounts (account_id));
diesel::joinable!(account_versions -> ig_accounts (account_id));
diesel::joinable!(alert_events -> alert_rules (rule_id));
diesel::joinable!(alert_events -> ig_accounts (account_id));
diesel::joinable!(alert_rules -> ig_accounts (account_id));
diesel::joinable!(alert_rules -> users (created_by));
diesel::joinable!(api_tokens -> users (created_by));
diesel::joinable!(comment_actions -> comment_rules (rule_id));
diesel::joinable!(comment_actions -> ig_accounts (account_id));
diesel::joinable!(comment_actions -> users (user_id));
diesel::joinable!(comment_rules -> ig_accounts (account_id));
diesel::joinable!(comment_rules -> saved_replies (saved_reply_id));
diesel::joinable!(comments -> ig_accounts (account_id));
diesel::joinable!(competitor_days -> competitors (competitor_id));
diesel::joinable!(competitor_posts -> competitors (competitor_id));
diesel::joinable!(competitors -> users (added_by));
diesel::joinable!(mentions -> ig_accounts (account_id));
diesel::joinable!(post_checkpoints -> posts (post_id));
diesel::joinable!(post_scores -> ig_accounts (account_id));
diesel::joinable!(post_scores -> posts (post_id));
diesel::joinable!(post_snapshots -> posts (post_id));
diesel::joinable!(post_thumbnails -> posts (post_id));
diesel::joinable!(posts -> ig_accounts (account_id));
diesel::joinable!(publication_events -> publications (publication_id));
diesel::joinable!(publication_media -> publications (publication_id));
diesel::joinable!(publications -> ig_accounts (account_id));
diesel::joinable!(publications -> users (created_by));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(report_schedules -> ig_accounts (account_id));
diesel::joinable!(report_schedules -> users (created_by));
diesel::joinable!(sent_reports -> ig_accounts (account_id));
diesel::joinable!(sent_reports -> report_schedules (schedule_id));
diesel::joinable!(sent_reports -> users (made_by));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(shared_links -> ig_accounts (account_id));
diesel::joinable!(shared_links -> users (created_by));
diesel::joinable!(sign_in_challenges -> users (user_id));
diesel::joinable!(sync_runs -> ig_accounts (account_id));
diesel::joinable!(totp_enrolments -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    account_audience,
    account_daily_insights,
    account_snapshots,
    account_versions,
    alert_events,
    alert_rules,
    api_tokens,
    comment_actions,
    comment_rules,
    comments,
    competitor_days,
    competitor_posts,
    competitors,
    data_version,
    dropped_metrics,
    ig_accounts,
    mentions,
    meta_requests,
    oauth_pending,
    oauth_states,
    post_checkpoints,
    post_scores,
    post_snapshots,
    post_thumbnails,
    posts,
    publication_events,
    publication_media,
    publications,
    purges,
    recovery_codes,
    report_schedules,
    saved_replies,
    sent_reports,
    sessions,
    settings,
    shared_links,
    sign_in_challenges,
    sync_runs,
    totp_enrolments,
    users,
    webhook_events,
);
