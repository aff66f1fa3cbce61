//! The key that signs CSRF tokens: from the settings, else generated once and kept in
//! the database so every replica signs alike.

use base64::Engine as _;
use diesel::prelude::*;

use super::random_token;
use crate::config::Settings;
use crate::db::schema::app_secrets;
use crate::db::{AnyConnection, DbError};

const NAME: &str = "signing_key";

pub fn load_signing_key(conn: &mut AnyConnection, settings: &Settings) -> Result<Vec<u8>, DbError> {
    if let Some(key) = &settings.secret_key {
        return Ok(key.expose().as_bytes().to_vec());
    }
    crate::insert_or_ignore!(
        conn,
        app_secrets::table,
        (
            app_secrets::name.eq(NAME),
            app_secrets::value.eq(random_token())
        )
    )?;
    let stored: String = app_secrets::table
        .find(NAME)
        .select(app_secrets::value)
        .first(conn)?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(stored.as_bytes())
        .map_err(|e| DbError::Migration(format!("stored signing key is damaged: {e}")))
}
