//! The SMTP transport against a real SMTP server on loopback.

use captionfeed::config::{Secret, Settings};
use captionfeed::mail::Mailer;
use lettre::Message;

use crate::smtp::SmtpServer;

#[tokio::test]
async fn smtp_url_sends_to_the_server_with_the_configured_sender() {
    let server = SmtpServer::start().await;
    let mut settings = Settings::from_vars(vec![(
        "CAPTIONFEED_MAIL_FROM".to_string(),
        "Captions <digest@captions.example>".to_string(),
    )])
    .unwrap();
    settings.smtp_url = Some(Secret::new(server.url()));
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = Message::builder()
        .from(mailer.from_address().clone())
        .to("reader@example.com".parse().unwrap())
        .subject("Hello over SMTP")
        .body("Body text".to_string())
        .unwrap();
    mailer.send(message).await.unwrap();

    let received = server.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].from, "<digest@captions.example>");
    assert_eq!(received[0].to, vec!["<reader@example.com>"]);
    assert_eq!(received[0].header("Subject").unwrap(), "Hello over SMTP");
    assert!(received[0].header_names().contains(&"Date".to_string()));
}

#[tokio::test]
async fn a_dead_smtp_server_is_an_error_not_a_silent_drop() {
    // Nothing listens on port 1 (a freed random port could go to another test's server).
    let port = 1;
    let mut settings = Settings::from_vars(Vec::new()).unwrap();
    settings.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
    let mailer = Mailer::from_settings(&settings).unwrap();
    let message = Message::builder()
        .from(mailer.from_address().clone())
        .to("reader@example.com".parse().unwrap())
        .subject("Lost?")
        .body("Body".to_string())
        .unwrap();
    assert!(mailer.send(message).await.is_err());
}
