//! Diesel table definitions, written for the SQLite migrations; the PostgreSQL migrations
//! create the same tables with the same portable types.

diesel::table! {
    stakeholders (id) {
        id -> Text,
        email -> Text,
        name -> Nullable<Text>,
        language -> Nullable<Text>,
        attributes -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// `email` lower-cased for search (`db::models::stakeholders::search_key`).
        email_key -> Text,
        /// `name` lower-cased for search; empty without a name.
        name_key -> Text,
    }
}

diesel::table! {
    /// One row per stakeholder and attribute: the index of `stakeholders.attributes`.
    stakeholder_attributes (name, value, stakeholder_id) {
        name -> Text,
        value -> Text,
        stakeholder_id -> Text,
    }
}

diesel::table! {
    /// Each attribute's distinct values with how many stakeholders have them.
    attribute_values (name, value) {
        name -> Text,
        value -> Text,
        people -> BigInt,
    }
}

diesel::joinable!(stakeholder_attributes -> stakeholders (stakeholder_id));

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    survey_versions (id) {
        id -> Text,
        slug -> Text,
        version -> Integer,
        content_hash -> Text,
        title -> Text,
        definition -> Text,
        loaded_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));

diesel::table! {
    schedules (id) {
        id -> Text,
        survey_slug -> Text,
        title_template -> Text,
        every_months -> Integer,
        open_for_hours -> Integer,
        reminder_hours -> Text,
        audience -> Nullable<Text>,
        anonymity_k -> Integer,
        active -> Bool,
        next_opens_at -> Timestamp,
        created_at -> Timestamp,
        stopped_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    waves (id) {
        id -> Text,
        survey_version_id -> Text,
        schedule_id -> Nullable<Text>,
        title -> Text,
        audience -> Nullable<Text>,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        reminder_hours -> Text,
        anonymity_k -> Integer,
        state -> Text,
        invited_count -> Integer,
        skipped_count -> Integer,
        reminders_enqueued -> Integer,
        opened_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        wave_id -> Text,
        stakeholder_id -> Text,
        token_hash -> Text,
        unsubscribe_hash -> Text,
        segment -> Text,
        language -> Nullable<Text>,
        created_at -> Timestamp,
        response_cell -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        dedupe_key -> Text,
        recipient -> Text,
        wave_id -> Nullable<Text>,
        invitation_id -> Nullable<Text>,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        retryable -> Bool,
    }
}

diesel::table! {
    opt_outs (stakeholder_id, survey_slug) {
        stakeholder_id -> Text,
        survey_slug -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    suppressions (email) {
        email -> Text,
        reason -> Text,
        created_at -> Timestamp,
        wave_id -> Nullable<Text>,
    }
}

diesel::joinable!(waves -> survey_versions (survey_version_id));
diesel::joinable!(waves -> schedules (schedule_id));
diesel::joinable!(invitations -> waves (wave_id));
diesel::joinable!(invitations -> stakeholders (stakeholder_id));
diesel::joinable!(outbox -> waves (wave_id));
diesel::joinable!(outbox -> invitations (invitation_id));
diesel::joinable!(opt_outs -> stakeholders (stakeholder_id));

diesel::allow_tables_to_appear_in_same_query!(
    schedules,
    waves,
    invitations,
    outbox,
    opt_outs,
    suppressions,
    stakeholders,
    survey_versions,
    users,
    sessions,
    responses,
    answers,
    cell_counts,
    wave_segments,
    result_snapshots,
    wave_cells,
    stakeholder_attributes,
    attribute_values,
    procurement_requests,
    kpi_values,
    user_scopes,
    answered_marks,
    legacy_answered,
    wave_comments,
    result_filter_snapshots,
);

diesel::table! {
    // Stored keyed by (wave_id, id) (migration 000024); `id`, a random UUID, is unique on
    // its own and is the key the answers join on.
    responses (id) {
        id -> Text,
        wave_id -> Text,
        cell -> Text,
        submitted_on -> Date,
    }
}

diesel::table! {
    answers (response_id, question_key, position) {
        response_id -> Text,
        question_key -> Text,
        position -> Integer,
        value_int -> Nullable<Integer>,
        value_text -> Nullable<Text>,
    }
}

diesel::table! {
    wave_segments (wave_id, segment) {
        wave_id -> Text,
        segment -> Text,
        invited -> BigInt,
    }
}

diesel::table! {
    cell_counts (wave_id, cell) {
        wave_id -> Text,
        cell -> Text,
        respondents -> BigInt,
        counts -> Text,
    }
}

diesel::joinable!(responses -> waves (wave_id));
diesel::joinable!(answers -> responses (response_id));
diesel::joinable!(cell_counts -> waves (wave_id));
diesel::joinable!(wave_segments -> waves (wave_id));

diesel::table! {
    result_snapshots (wave_id) {
        wave_id -> Text,
        results -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(result_snapshots -> waves (wave_id));

diesel::table! {
    wave_cells (wave_id, cell) {
        wave_id -> Text,
        cell -> Text,
        invited -> BigInt,
    }
}

diesel::joinable!(wave_cells -> waves (wave_id));

diesel::table! {
    trend_exclusions (wave_id) {
        wave_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(trend_exclusions -> waves (wave_id));
diesel::allow_tables_to_appear_in_same_query!(trend_exclusions, waves);
diesel::allow_tables_to_appear_in_same_query!(trend_exclusions, survey_versions);

diesel::table! {
    actions (id) {
        id -> Text,
        wave_id -> Text,
        survey_slug -> Text,
        target_kind -> Text,
        target_key -> Text,
        group_attribute -> Nullable<Text>,
        group_value -> Nullable<Text>,
        title -> Text,
        description -> Text,
        owner_id -> Text,
        due_on -> Date,
        status -> Text,
        published -> Bool,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    action_notes (id) {
        id -> Text,
        action_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    action_history (id) {
        id -> Text,
        action_id -> Text,
        changed_by -> Text,
        changed_at -> Timestamp,
        field -> Text,
        old_value -> Nullable<Text>,
        new_value -> Nullable<Text>,
    }
}

diesel::joinable!(action_notes -> actions (action_id));
diesel::joinable!(action_history -> actions (action_id));
diesel::allow_tables_to_appear_in_same_query!(actions, action_notes, action_history, users);
diesel::allow_tables_to_appear_in_same_query!(actions, waves);

diesel::table! {
    wave_summaries (wave_id) {
        wave_id -> Text,
        id -> Text,
        link_hash -> Text,
        sent_by -> Text,
        sent_at -> Timestamp,
        recipients -> Integer,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
    }
}

diesel::joinable!(wave_summaries -> waves (wave_id));
diesel::allow_tables_to_appear_in_same_query!(wave_summaries, waves);

diesel::table! {
    procurement_requests (id) {
        id -> Text,
        business_unit -> Text,
        requester_email -> Nullable<Text>,
        category -> Text,
        channel -> Text,
        value_amount -> Nullable<Double>,
        currency -> Nullable<Text>,
        opened_on -> Date,
        fulfilled_on -> Nullable<Date>,
        status -> Text,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    kpi_values (kpi_key, period, business_unit) {
        kpi_key -> Text,
        period -> Text,
        business_unit -> Text,
        value -> Double,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    user_scopes (user_id, business_unit) {
        user_id -> Text,
        business_unit -> Text,
    }
}

diesel::joinable!(user_scopes -> users (user_id));

diesel::table! {
    answered_marks (wave_id, mark) {
        mark -> Text,
        wave_id -> Text,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    legacy_answered (invitation_id) {
        invitation_id -> Text,
    }
}

diesel::table! {
    wave_comments (id) {
        id -> Text,
        wave_id -> Text,
        question_key -> Text,
        text -> Text,
        nps_answer -> Nullable<Integer>,
    }
}

diesel::table! {
    result_filter_snapshots (wave_id, filter) {
        wave_id -> Text,
        filter -> Text,
        results -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(answered_marks -> waves (wave_id));
diesel::joinable!(wave_comments -> waves (wave_id));
diesel::joinable!(result_filter_snapshots -> waves (wave_id));

diesel::table! {
    /// A fulfilled request's pulse: waiting for its delay, then invited or skipped (once).
    request_pulses (request_id) {
        request_id -> Text,
        requester_email -> Text,
        business_unit -> Text,
        category -> Text,
        channel -> Text,
        within_target -> Bool,
        fulfilled_on -> Date,
        seen_at -> Timestamp,
        state -> Text,
        skip_reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        wave_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// The pulse waves: one per survey and calendar quarter.
    pulse_periods (wave_id) {
        wave_id -> Text,
        survey_slug -> Text,
        starts_on -> Date,
        ends_on -> Date,
    }
}

diesel::table! {
    pulse_settings (id) {
        id -> Integer,
        enabled -> Bool,
        survey_slug -> Text,
        delay_hours -> Integer,
        min_days_between -> Integer,
        quiet_days_before_wave -> Integer,
        max_age_days -> Integer,
        answer_days -> Integer,
        anonymity_k -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(pulse_periods -> waves (wave_id));
diesel::allow_tables_to_appear_in_same_query!(request_pulses, pulse_periods);
diesel::allow_tables_to_appear_in_same_query!(request_pulses, waves);
diesel::allow_tables_to_appear_in_same_query!(pulse_periods, waves);
diesel::allow_tables_to_appear_in_same_query!(pulse_periods, invitations);
