//! SIGTERM while requests, database work and mail are in flight.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{
    Answer, PASSWORD, Read, Write, acknowledged, assert_acknowledged_writes_are_whole,
    create_account, sign_in, start_readers, start_writers,
};
use crate::smtp::SmtpSink;
use crate::support::{
    Running, browser, command, connect_data_dir, csrf_in, form_token, free_port, processes_in,
    query_data_dir, scratch_dir, serve, spawn, wait_healthy,
};

#[tokio::test]
async fn sigterm_under_load_lets_every_in_flight_request_finish_then_exits_0_with_postgres_stopped()
{
    const SIGN_INS: usize = 16;
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    let pgdata = dir.join("pgdata");
    create_account(&dir, "term@faults.test");
    let writer = Arc::new(sign_in(port, "term@faults.test").await);
    let url = writer.url.clone();
    // Sign-ins are the slow requests (a password hash each, one per core at
    // a time): these are certainly in flight when SIGTERM comes.
    let mut forms = Vec::new();
    for _ in 0..SIGN_INS {
        // A connection of its own for each sign-in, opened when it is sent.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let page = http
            .get(format!("{url}/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        forms.push((http, csrf_in(&page).unwrap()));
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = start_writers(&writer, 0, 3, &stop, true);
    let readers = start_readers(port, &["/blog", "/", "/posts/new", "/healthz"], 3, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sign_ins = tokio::task::JoinSet::new();
    for (http, token) in forms {
        let url = url.clone();
        sign_ins.spawn(async move {
            let (status, cookie) = post_sign_in(&http, &url, "term@faults.test", &token).await?;
            Ok::<_, String>((status, cookie, Instant::now()))
        });
    }
    // In flight: the server has read each of them and counted it against
    // the sign-in limit (before hashing), and has not answered them all.
    let counted = "SELECT coalesce(sum(hits), 0) FROM rate_limits WHERE bucket LIKE 'sign-in:ip:%'";
    let begun = Instant::now();
    while query_data_dir(&dir, counted).await != [(SIGN_INS + 1).to_string()] {
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "the sign-ins did not start"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let signalled = Instant::now();
    kill(Pid::from_raw(running.child.id() as i32), Signal::SIGTERM).unwrap();
    let sign_ins = sign_ins.join_all().await;
    let (status, output) =
        tokio::task::spawn_blocking(move || running.signal_and_wait(Signal::SIGTERM))
            .await
            .unwrap();
    let stopped = signalled.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes: Vec<Write> = writers.join_all().await.into_iter().flatten().collect();
    let reads: Vec<Read> = readers.join_all().await.into_iter().flatten().collect();

    assert_eq!(status.code(), Some(0), "{output}");
    assert!(
        processes_in(&pgdata).is_empty(),
        "PostgreSQL stopped with Soloist"
    );
    assert!(
        stopped < Duration::from_secs(10),
        "stopping took {stopped:?}"
    );
    let mut after_signal = 0;
    for sign_in in &sign_ins {
        let Ok((status, cookie, finished)) = sign_in else {
            panic!("an in-flight sign-in got no complete answer: {sign_in:?}");
        };
        assert_eq!(
            (*status, *cookie),
            (303, true),
            "an in-flight sign-in finished with its session; errors logged: {}",
            errors_in(&output)
        );
        after_signal += usize::from(*finished > signalled);
    }
    assert!(
        after_signal > 0,
        "some sign-ins were answered after SIGTERM"
    );
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for write in &writes {
        let key = match write {
            Write::Acknowledged { .. } => "write 303".to_owned(),
            Write::Refused { status, .. } => format!("write {status}"),
            Write::Lost { refused: true, .. } => "write refused after the stop".to_owned(),
            Write::Lost { error, .. } if error.starts_with("body") => {
                panic!("a response was cut off: {error}")
            }
            Write::Lost { .. } => "write unanswered after the stop".to_owned(),
        };
        *answers.entry(key).or_default() += 1;
    }
    for (answer, _) in &reads {
        let key = match answer {
            Answer::Status(status) => format!("read {status}"),
            Answer::Refused => "read refused after the stop".to_owned(),
            Answer::Broken(error) if error.starts_with("body") => {
                panic!("a response was cut off: {error}")
            }
            // A request still unread on a kept-alive connection when the
            // server drains it is closed unanswered (HTTP lets a server close
            // an idle connection; clients retry it): only after the signal.
            Answer::Broken(_) => "read unanswered after the stop".to_owned(),
        };
        *answers.entry(key).or_default() += 1;
    }
    eprintln!(
        "stopped {stopped:?} after SIGTERM; {after_signal} of {SIGN_INS} sign-ins answered after it; {answers:?}"
    );
    assert!(
        answers
            .keys()
            .all(|key| key.ends_with(" 200") || key.ends_with(" 303") || key.ends_with("stop")),
        "complete answers only: {answers:?}"
    );
    let running = serve(&dir, port);
    assert_acknowledged_writes_are_whole(&dir, &acknowledged(&writes)).await;
    running.signal_and_wait(Signal::SIGTERM);
}

/// Posts the sign-in form; its status and whether it set a cookie, once
/// the whole answer is read (or what broke the exchange).
async fn post_sign_in(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    token: &str,
) -> Result<(u16, bool), String> {
    let response = http
        .post(format!("{url}/sign-in"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", token),
        ])
        .send()
        .await
        .map_err(|error| format!("{error:?}"))?;
    let status = response.status().as_u16();
    let cookie = response.headers().contains_key("set-cookie");
    response
        .bytes()
        .await
        .map_err(|error| format!("body: {error:?}"))?;
    Ok((status, cookie))
}

/// The lines of a Soloist's output that report errors.
fn errors_in(output: &str) -> String {
    output
        .lines()
        .filter(|line| line.contains("ERROR") || line.contains("\"level\":\"error\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `soloist serve` on `dir` with extra arguments, once /healthz answers.
fn serve_with(dir: &Path, port: u16, extra: &[&str]) -> Running {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &listen,
    ];
    args.extend_from_slice(extra);
    let running = spawn(command(&args));
    wait_healthy(&running, port);
    running
}

/// Each HTTP worker stops as soon as its own requests are done, while
/// another may still be answering one: that request's database connection
/// must not die with the idle worker (it did when the workers shared one
/// pool and a connection lived on the worker that opened it).
#[tokio::test]
async fn a_request_still_running_on_one_worker_keeps_its_database_connection_when_another_worker_stops_first()
 {
    let dir = scratch_dir();
    let port = free_port();
    // Two workers, one connection each (one in all, when they shared a pool).
    let running = serve_with(&dir, port, &["--workers", "2", "--pool-size", "1"]);
    create_account(&dir, "shift@faults.test");
    let url = format!("http://127.0.0.1:{port}");
    // Pooled connections are opened again by the next requests.
    query_data_dir(
        &dir,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = 'soloist' AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap()
    };
    // One TCP connection, so one worker: the sign-in form, and the home
    // page, whose query opens a database connection on that worker.
    let first = client();
    let token = form_token(&first, &format!("{url}/sign-in")).await;
    assert_eq!(
        first.get(format!("{url}/")).send().await.unwrap().status(),
        200
    );
    drop(first);
    // The next connection goes to the other worker (they take turns). Its
    // sign-in takes a database connection and waits on a lock the test holds.
    let locker = connect_data_dir(&dir).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE rate_limits IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let second = client();
    let sign_in =
        tokio::spawn(async move { post_sign_in(&second, &url, "shift@faults.test", &token).await });
    let waiting = "SELECT count(*) FROM pg_stat_activity \
                   WHERE datname = 'soloist' AND wait_event_type = 'Lock'";
    let begun = Instant::now();
    while query_data_dir(&dir, waiting).await != ["1"] {
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "the sign-in did not reach the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill(Pid::from_raw(running.child.id() as i32), Signal::SIGTERM).unwrap();
    // The idle worker stops at once; the other waits for its sign-in.
    tokio::time::sleep(Duration::from_millis(800)).await;
    locker.batch_execute("COMMIT").await.unwrap();
    let answer = sign_in.await.unwrap();
    let (status, output) =
        tokio::task::spawn_blocking(move || running.signal_and_wait(Signal::SIGTERM))
            .await
            .unwrap();
    assert_eq!(
        answer,
        Ok((303, true)),
        "the sign-in finished with its session; errors logged: {}",
        errors_in(&output)
    );
    assert_eq!(status.code(), Some(0), "{output}");
}

/// A mail asked for just before SIGTERM is still sent: the stop waits for
/// mail on its way (a password reset asked for during a restart arrives).
#[tokio::test]
async fn a_reset_mail_asked_for_just_before_sigterm_is_sent_before_soloist_exits() {
    let sink = SmtpSink::start_greeting_after(Duration::from_millis(1500)).await;
    let dir = scratch_dir();
    let port = free_port();
    let running = serve_with(&dir, port, &["--smtp-url", &sink.url]);
    create_account(&dir, "late@faults.test");
    let url = format!("http://127.0.0.1:{port}");
    let http = browser();
    let token = form_token(&http, &format!("{url}/reset-password")).await;
    let response = http
        .post(format!("{url}/reset-password"))
        .form(&[("email", "late@faults.test"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        sink.count_to("late@faults.test"),
        0,
        "the mail is on its way"
    );
    let (status, output) =
        tokio::task::spawn_blocking(move || running.signal_and_wait(Signal::SIGTERM))
            .await
            .unwrap();
    assert_eq!(status.code(), Some(0), "{output}");
    assert_eq!(
        sink.count_to("late@faults.test"),
        1,
        "the reset mail was sent before the exit; errors logged: {}",
        errors_in(&output)
    );
    assert!(
        sink.wait_for("late@faults.test", 1)
            .await
            .link()
            .contains("/reset-password/confirm?token="),
        "it is the reset link"
    );
}
