//! A real SMTP server for the tests: it speaks enough of RFC 5321 for
//! lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps every
//! message it is given.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A message as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The text the recipient reads: the text/plain part of a multipart
    /// message, transfer encoding undone.
    pub fn text(&self) -> String {
        let (headers, body) = self.data.split_once("\n\n").unwrap_or((&self.data, ""));
        let Some(boundary) = boundary_of(headers) else {
            return decoded(headers, body);
        };
        body.split(&format!("--{boundary}"))
            .filter_map(|part| part.trim_start_matches(['\r', '\n']).split_once("\n\n"))
            .find(|(part_headers, _)| part_headers.to_ascii_lowercase().contains("text/plain"))
            .map(|(part_headers, part_body)| decoded(part_headers, part_body))
            .unwrap_or_default()
    }

    /// The first URL in the message.
    pub fn link(&self) -> String {
        let text = self.text();
        let start = text.find("http").unwrap();
        text[start..].split_whitespace().next().unwrap().to_owned()
    }

    /// The token of the first link.
    pub fn token(&self) -> String {
        self.link().split("token=").nth(1).unwrap().to_owned()
    }

    pub fn subject(&self) -> String {
        self.data
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned()
    }

    /// The subject as the recipient reads it: folded lines joined and
    /// RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`)
    /// decoded, as lettre writes a subject that is not ASCII.
    pub fn decoded_subject(&self) -> String {
        let headers = self.data.split("\n\n").next().unwrap_or_default();
        let mut lines = headers.lines();
        let mut folded = String::new();
        for line in lines.by_ref() {
            if let Some(first) = line.strip_prefix("Subject: ") {
                folded.push_str(first);
                break;
            }
        }
        for line in lines {
            if !line.starts_with([' ', '\t']) {
                break;
            }
            folded.push_str(line);
        }
        // Whitespace between two encoded words is not part of the text;
        // any other whitespace is.
        let mut subject = String::new();
        let mut after_encoded = false;
        for word in folded.split_whitespace() {
            let encoded = word
                .strip_prefix("=?")
                .and_then(|rest| rest.strip_suffix("?="))
                .and_then(|rest| {
                    let mut parts = rest.splitn(3, '?');
                    Some((parts.next()?, parts.next()?, parts.next()?))
                });
            let between_encoded = after_encoded && encoded.is_some();
            if !subject.is_empty() && !between_encoded {
                subject.push(' ');
            }
            after_encoded = encoded.is_some();
            match encoded {
                Some((_, encoding, text)) if encoding.eq_ignore_ascii_case("b") => {
                    use base64::Engine;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .unwrap();
                    subject.push_str(&String::from_utf8(bytes).unwrap());
                }
                Some((_, _, text)) => {
                    let text = text.replace('_', " ");
                    subject.push_str(&decoded(
                        "content-transfer-encoding: quoted-printable",
                        &text,
                    ));
                }
                None => subject.push_str(word),
            }
        }
        subject
    }
}

/// The `boundary` parameter of a multipart message's headers.
fn boundary_of(headers: &str) -> Option<String> {
    let lower = headers.to_ascii_lowercase();
    if !lower.contains("content-type: multipart/") {
        return None;
    }
    let at = lower.find("boundary=")? + "boundary=".len();
    let rest = &headers[at..];
    let value = rest
        .trim_start_matches('"')
        .split(['"', ';', '\n', '\r'])
        .next()?;
    Some(value.trim().to_owned())
}

/// A body with its transfer encoding undone.
fn decoded(headers: &str, body: &str) -> String {
    let encoding = headers.to_ascii_lowercase();
    if encoding.contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap(),
        )
        .unwrap()
    } else if encoding.contains("content-transfer-encoding: quoted-printable") {
        let unfolded = body.replace("=\n", "");
        let mut out = Vec::new();
        let bytes = unfolded.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] == b'=' && index + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                index += 3;
            } else {
                out.push(bytes[index]);
                index += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_owned()
    }
}

/// The server and what it received.
#[derive(Clone)]
pub struct SmtpSink {
    pub url: String,
    messages: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_greeting_after(Duration::ZERO).await
    }

    /// A server that waits `delay` before it greets each connection, so a
    /// message is still being sent for at least that long.
    pub async fn start_greeting_after(delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let mut to = Vec::new();
                    tokio::time::sleep(delay).await;
                    write.write_all(b"220 sink.test ESMTP\r\n").await.ok();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250-sink.test\r\n250 8BITMIME\r\n"
                        } else if upper.starts_with("MAIL FROM") {
                            to.clear();
                            b"250 OK\r\n"
                        } else if upper.starts_with("RCPT TO") {
                            let address = line[8..].trim().trim_start_matches(':').trim();
                            to.push(address.trim_matches(|c| c == '<' || c == '>').to_owned());
                            b"250 OK\r\n"
                        } else if upper == "DATA" {
                            write
                                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                                .await
                                .ok();
                            let mut data = String::new();
                            while let Ok(Some(line)) = lines.next_line().await {
                                if line == "." {
                                    break;
                                }
                                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                                data.push('\n');
                            }
                            store.lock().unwrap().push(Received {
                                to: to.clone(),
                                data,
                            });
                            b"250 queued\r\n"
                        } else if upper.starts_with("QUIT") {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        } else {
                            b"250 OK\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            messages,
        }
    }

    /// Waits for the `count`-th message sent to `to` (1-based).
    pub async fn wait_for(&self, to: &str, count: usize) -> Received {
        for _ in 0..200 {
            let found: Vec<Received> = self
                .messages
                .lock()
                .unwrap()
                .iter()
                .filter(|message| message.to.iter().any(|address| address == to))
                .cloned()
                .collect();
            if found.len() >= count {
                return found[count - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "no mail #{count} to {to}; received: {:?}",
            self.messages.lock().unwrap()
        );
    }

    /// Messages sent to `to` so far.
    pub fn count_to(&self, to: &str) -> usize {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .filter(|message| message.to.iter().any(|address| address == to))
            .count()
    }
}
