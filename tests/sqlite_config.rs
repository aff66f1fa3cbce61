//! SQLite's process-wide settings (`db::configure_sqlite`), in a process of their own: SQLite
//! takes them only before its first connection, which the other test binaries open at once.

use captionfeed::db::{configure_sqlite, DatabaseUrl, Db};

#[test]
fn sqlite_takes_its_settings_before_the_first_connection_and_refuses_them_after() {
    assert!(
        configure_sqlite(),
        "the first call, before any connection, is taken"
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = DatabaseUrl::Sqlite(dir.path().join("c.db").display().to_string());
    let db = Db::connect(&url, 1).expect("the database opens");
    drop(db);
    assert!(
        !configure_sqlite(),
        "once a connection opened, SQLite refuses and the call says so"
    );
}
