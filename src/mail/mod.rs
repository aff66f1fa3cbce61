//! Sending mail: over SMTP when `CAPTIONFEED_SMTP_URL` is set, else as `.eml` files in
//! `CAPTIONFEED_MAIL_DIR`, so a single-node trial loses nothing and a newcomer can read
//! what would have been sent.

pub mod outbox;
pub mod sender;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;

/// How long one SMTP conversation may take; a hung server must not hold a lease forever.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing the message to {dir}: {message}")]
    File { dir: String, message: String },
    #[error("building the message: {0}")]
    Build(String),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// Where messages go, and who they come from.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// The transport the settings name. Creates the mail folder when mail goes to files.
    pub fn from_settings(settings: &Settings) -> Result<Self, MailError> {
        let transport = match &settings.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => {
                let dir = settings.mail_dir.clone();
                std::fs::create_dir_all(&dir).map_err(|e| MailError::File {
                    dir: dir.display().to_string(),
                    message: e.to_string(),
                })?;
                let shown = dir.canonicalize().unwrap_or_else(|_| dir.clone());
                tracing::info!(
                    folder = %shown.display(),
                    "no CAPTIONFEED_SMTP_URL: mail is written as .eml files"
                );
                Transport::Files(AsyncFileTransport::new(&dir), dir)
            }
        };
        Ok(Mailer {
            transport,
            from: settings.mail_from.clone(),
        })
    }

    pub fn from_address(&self) -> &Mailbox {
        &self.from
    }

    /// Hands one message over; `Ok` means the server (or the disk) has it.
    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Files(files, dir) => {
                let id = files.send(message).await.map_err(|e| MailError::File {
                    dir: dir.display().to_string(),
                    message: e.to_string(),
                })?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), "mail written");
            }
        }
        Ok(())
    }
}

/// The site's host, for `Message-ID`s (which must name a domain).
pub fn message_host(base_url: &url::Url) -> String {
    base_url
        .host_str()
        .unwrap_or("captionfeed.invalid")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_smtp_messages_become_eml_files_in_the_mail_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::from_vars(Vec::new()).unwrap();
        settings.mail_dir = dir.path().join("mail");
        let mailer = Mailer::from_settings(&settings).unwrap();
        let message = Message::builder()
            .from(mailer.from_address().clone())
            .to("reader@example.com".parse().unwrap())
            .subject("Hello")
            .body("Body text".to_string())
            .unwrap();
        mailer.send(message).await.unwrap();

        let files: Vec<_> = std::fs::read_dir(settings.mail_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().unwrap(), "eml");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: reader@example.com"));
        assert!(text.contains("Body text"));
    }
}
