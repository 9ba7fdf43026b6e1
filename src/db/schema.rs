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
    }
}

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

diesel::allow_tables_to_appear_in_same_query!(stakeholders, users, sessions, survey_versions);
