//! Loopback throughput: the default `Session` stack vs the raw hyper-util pooled client vs a
//! pooled reqwest client, GET of a small JSON body, at C=1 and C=64, over http and https
//! (HTTP/1.1 everywhere so the three clients do the same work), all in one run.
//!
//! The server runs on its own thread and runtime; each client uses one worker thread.
//! `cargo bench --bench loopback`; figures and ratios go to `benches/README.md`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use futures_util::future::join_all;
use http_body_util::{BodyExt, Empty, Full};
use hyper::service::service_fn;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_requests::{Certificate, HttpClient, Session};

/// The demo server's self-signed certificate and TLS configuration.
#[path = "../examples/demo_server/tls.rs"]
mod tls;

const BODY: &[u8] = br#"{"id":42,"name":"tower-requests","ok":true,"tags":["a","b","c"]}"#;
const BIG: usize = 1 << 20;

fn big_body() -> Bytes {
    static BIG_BODY: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
    BIG_BODY
        .get_or_init(|| Bytes::from(vec![b'x'; BIG]))
        .clone()
}

struct Rig {
    http: SocketAddr,
    https: SocketAddr,
    cert: CertificateDer<'static>,
    cert_pem: String,
}

/// The server: in this process (on its own thread and runtime, pinned to CPU 0 with
/// `LOOPBACK_PIN=1`), or in another one (`LOOPBACK_SERVER=<file>` names the file a
/// `LOOPBACK_SERVE=<file>` process wrote), so that a profiler counts the client alone.
fn start_server() -> Rig {
    if let Ok(file) = std::env::var("LOOPBACK_SERVER") {
        return Rig::read(&file);
    }
    start_local_server()
}

impl Rig {
    /// `http https` on the first line, the certificate's PEM after it.
    fn write(&self, file: &str) {
        let text = format!("{} {}\n{}", self.http, self.https, self.cert_pem);
        let tmp = format!("{file}.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(tmp, file).unwrap();
    }

    fn read(file: &str) -> Rig {
        let text = std::fs::read_to_string(file).expect("the LOOPBACK_SERVER file");
        let (addrs, pem) = text.split_once('\n').unwrap();
        let (http, https) = addrs.split_once(' ').unwrap();
        let cert = rustls_pemfile_cert(pem);
        Rig {
            http: http.parse().unwrap(),
            https: https.parse().unwrap(),
            cert,
            cert_pem: pem.to_string(),
        }
    }
}

/// The DER of the one certificate in `pem`.
fn rustls_pemfile_cert(pem: &str) -> CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// Pins the calling thread to CPU `cpu` (Linux; a no-op when it cannot).
fn pin_to(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET writes inside it;
    // sched_setaffinity(0, ..) applies to the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// `LOOPBACK_PIN=1`: the server on CPU 0, the client (its runtime threads and the thread that
/// drives it) on CPU 1.
fn pinned() -> bool {
    std::env::var("LOOPBACK_PIN").is_ok_and(|v| v == "1")
}

fn start_local_server() -> Rig {
    let tls = tls::self_signed();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls.config));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if pinned() {
            pin_to(0);
        }
        let rt = server_runtime();
        rt.block_on(async move {
            let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let secure = TcpListener::bind("127.0.0.1:0").await.unwrap();
            // `LOOPBACK_HOSTS=<k>`: the plain server also on `k` other loopback addresses, same
            // port (see `other_host`), for the `newhost` profiling mode.
            let port = plain.local_addr().unwrap().port();
            let hosts: usize = std::env::var("LOOPBACK_HOSTS")
                .ok()
                .map_or(0, |k| k.parse().expect("LOOPBACK_HOSTS=<count>"));
            for i in 0..hosts {
                let listener = TcpListener::bind(other_host(i, port)).await.unwrap();
                tokio::spawn(async move {
                    loop {
                        let (s, _) = listener.accept().await.unwrap();
                        ACCEPTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let _ = s.set_nodelay(true);
                        tokio::spawn(serve(TokioIo::new(s)));
                    }
                });
            }
            tx.send((plain.local_addr().unwrap(), secure.local_addr().unwrap()))
                .unwrap();
            let plain_loop = async {
                loop {
                    let (s, _) = plain.accept().await.unwrap();
                    ACCEPTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = s.set_nodelay(true);
                    tokio::spawn(serve(TokioIo::new(s)));
                }
            };
            let secure_loop = async {
                loop {
                    let (s, _) = secure.accept().await.unwrap();
                    let _ = s.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        if let Ok(tls) = acceptor.accept(s).await {
                            serve(TokioIo::new(tls)).await;
                        }
                    });
                }
            };
            tokio::join!(plain_loop, secure_loop);
        });
    });
    let (http, https) = rx.recv().unwrap();
    Rig {
        http,
        https,
        cert: tls.cert,
        cert_pem: tls.cert_pem,
    }
}

/// The `i`-th other loopback address of the plain server (127.0.1.1, 127.0.1.2, ...; Linux
/// routes all of 127.0.0.0/8 to the loopback interface), so that a client sees each as a host
/// it has not seen before.
fn other_host(i: usize, port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8], port))
}

/// Plain-http connections the server accepted, on all its addresses (the profiling mode prints
/// it: a client that reuses its pooled connection opens one).
static ACCEPTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

async fn serve<I>(io: I)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
        let body = if req.uri().path() == "/big" {
            big_body()
        } else {
            Bytes::from_static(BODY)
        };
        let mut resp = http::Response::builder().header("content-type", "application/json");
        // A logged-in site's answer: the same session cookie on every response.
        if req.uri().path().starts_with("/cookie") {
            resp = resp.header("set-cookie", "sid=abc");
        }
        Ok::<_, std::convert::Infallible>(resp.body(Full::new(body)).unwrap())
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(io, svc)
        .await;
}

fn client_tls(rig: &Rig) -> rustls::ClientConfig {
    client_tls_alpn(rig, &[b"http/1.1"])
}

fn client_tls_alpn(rig: &Rig, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rig.cert.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

type Raw = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

fn raw_client(rig: &Rig) -> Raw {
    raw_client_with(client_tls(rig))
}

fn raw_client_with(tls: rustls::ClientConfig) -> Raw {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let connector = HttpsConnector::from((http, Arc::new(tls)));
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build(connector)
}

fn session(rig: &Rig) -> Session {
    Session::builder()
        .add_root_certificate(Certificate::from_pem(rig.cert_pem.as_bytes()).unwrap())
        .http1_only()
        .trust_env(false)
        .build()
        .unwrap()
}

/// This crate's pooled client alone, as the Session builds it for the rig (HTTP/1.1, the rig's
/// certificate trusted): the diagnostic clients' transport.
fn diagnostic_client(rig: &Rig) -> HttpClient {
    HttpClient::builder()
        .trust_env(false)
        .add_root_certificate(Certificate::from_pem(rig.cert_pem.as_bytes()).unwrap())
        .http1_only()
        .build()
        .unwrap()
}

fn reqwest_client(rig: &Rig) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_tls(rig))
        .http1_only()
        .no_proxy()
        .build()
        .unwrap()
}

fn expected_len(path: &str) -> usize {
    if path == "/big" {
        BIG
    } else {
        BODY.len()
    }
}

async fn get_raw(client: &Raw, uri: &http::Uri) {
    let resp = client.get(uri.clone()).await.unwrap();
    assert!(resp.status().is_success());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), expected_len(uri.path()));
}

async fn get_session(session: &Session, url: &str) {
    let resp = session.get(url).send().await.unwrap();
    assert!(resp.status().is_success());
    let len = expected_len(resp.url().path());
    assert_eq!(resp.bytes().await.unwrap().len(), len);
}

async fn get_reqwest(client: &reqwest::Client, url: &str) {
    let resp = client.get(url).send().await.unwrap();
    assert!(resp.status().is_success());
    let len = expected_len(resp.url().path());
    assert_eq!(resp.bytes().await.unwrap().len(), len);
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
    n: u64,
) -> BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n))
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g
}

/// User + system CPU time of this process so far (the server thread included, which does the
/// same work for every client, so differences are the clients').
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU per request (µs) and throughput (requests/s) of the three clients, each making
/// `batches` rounds of `width` concurrent GETs of `url`, measured in `rounds` interleaved rounds
/// (the clients' order turning each round), so that a host that drifts during the measurement
/// weighs on all three alike. Returns (CPU, throughput), each for raw, session, reqwest.
fn interleaved_rounds(
    rt: &tokio::runtime::Runtime,
    (raw, session, reqwest): (&Raw, &Session, &reqwest::Client),
    url: &str,
    width: usize,
    batches: u32,
    rounds: u32,
) -> ([f64; 3], [f64; 3]) {
    let uri: http::Uri = url.parse().unwrap();
    let run = |client: usize| {
        let (before, start) = (cpu_time(), std::time::Instant::now());
        rt.block_on(async {
            for _ in 0..batches {
                match client {
                    0 => drop(join_all((0..width).map(|_| get_raw(raw, &uri))).await),
                    1 => drop(join_all((0..width).map(|_| get_session(session, url))).await),
                    _ => drop(join_all((0..width).map(|_| get_reqwest(reqwest, url))).await),
                }
            }
        });
        (cpu_time() - before, start.elapsed())
    };
    for client in 0..3 {
        run(client); // connections established (and the pools filled) outside the measurement
    }
    let (mut cpu, mut wall) = ([Duration::ZERO; 3], [Duration::ZERO; 3]);
    for round in 0..rounds as usize {
        for k in 0..3 {
            let client = (round + k) % 3;
            let (c, w) = run(client);
            cpu[client] += c;
            wall[client] += w;
        }
    }
    let requests = f64::from(batches * rounds) * width as f64;
    (
        cpu.map(|t| t.as_secs_f64() * 1e6 / requests),
        wall.map(|t| requests / t.as_secs_f64()),
    )
}

/// A runtime with one worker thread. The server runs on its own; the clients' connection
/// tasks run on theirs while the request loop runs in `block_on` on the calling thread, as
/// under `#[tokio::main]`.
fn one_worker_runtime() -> tokio::runtime::Runtime {
    let pin = pinned();
    if pin {
        pin_to(1); // the thread that drives the runtime (block_on)
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(move || {
            if pin {
                pin_to(1);
            }
        })
        .enable_all()
        .build()
        .unwrap()
}

/// The server's runtime: one worker (on CPU 0 when pinned, set by its thread).
fn server_runtime() -> tokio::runtime::Runtime {
    let pin = pinned();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(move || {
            if pin {
                pin_to(0);
            }
        })
        .enable_all()
        .build()
        .unwrap()
}

/// Prints [`interleaved_rounds`]' figures for each (scheme, width, batches) case, ten rounds each.
fn report_rounds(
    rt: &tokio::runtime::Runtime,
    clients: (&Raw, &Session, &reqwest::Client),
    rig: &Rig,
    cases: &[(&str, usize, u32)],
    runtime: &str,
) {
    let counted = if std::env::var_os("LOOPBACK_SERVER").is_some() {
        "client process alone"
    } else {
        "client + server"
    };
    let rounds = 10;
    for &(scheme, width, batches) in cases {
        let addr = if scheme == "https" {
            rig.https
        } else {
            rig.http
        };
        let url = format!("{scheme}://{addr}/");
        let case = format!("C={width} {scheme}{runtime}");
        let ([raw_cpu, session_cpu, reqwest_cpu], [raw_rps, session_rps, reqwest_rps]) =
            interleaved_rounds(rt, clients, &url, width, batches, rounds);
        println!(
            "cpu per request (getrusage, {counted}, {case}, {} requests each in {rounds} \
             interleaved rounds): raw {raw_cpu:.1} us, session {session_cpu:.1} us \
             ({:.3}x raw), reqwest {reqwest_cpu:.1} us ({:.3}x raw)",
            batches as usize * width * rounds as usize,
            session_cpu / raw_cpu,
            reqwest_cpu / raw_cpu
        );
        println!(
            "requests/s (the same rounds, {case}): raw {raw_rps:.0}, session {session_rps:.0} \
             ({:.3}x raw, {:.3}x reqwest), reqwest {reqwest_rps:.0}",
            session_rps / raw_rps,
            session_rps / reqwest_rps
        );
    }
}

fn loopback(c: &mut Criterion) {
    let rig = start_server();
    let rt = one_worker_runtime();
    let _guard = rt.enter();
    let raw = raw_client(&rig);
    let session = session(&rig);
    let reqwest = reqwest_client(&rig);

    // The client process's CPU per request and its throughput, the clients interleaved in
    // rounds: at C=64 over http and https, as the wall clock below, and for sequential http GETs.
    report_rounds(
        &rt,
        (&raw, &session, &reqwest),
        &rig,
        &[("http", 64, 100), ("https", 64, 100), ("http", 1, 2_000)],
        "",
    );

    for (scheme, addr) in [("http", rig.http), ("https", rig.https)] {
        let url = format!("{scheme}://{addr}/");
        for conc in [1usize, 64] {
            let g = group(c, &format!("get_small_{scheme}_c{conc}"), conc as u64);
            bench_clients(g, &rt, (&raw, &session, &reqwest), &url, conc);
        }
    }

    // The same at C=64 with a logged-in site's answers: `Set-Cookie: sid=abc` on every one.
    for (scheme, addr) in [("http", rig.http), ("https", rig.https)] {
        let url = format!("{scheme}://{addr}/cookie");
        let g = group(c, &format!("get_small_{scheme}_c64_set_cookie"), 64);
        bench_clients(g, &rt, (&raw, &session, &reqwest), &url, 64);
    }

    // 1 MiB downloads (MB/s) over plain http.
    let url = format!("http://{}/big", rig.http);
    let mut g = c.benchmark_group("download_1mib_http");
    g.throughput(Throughput::Bytes(BIG as u64))
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    bench_clients(g, &rt, (&raw, &session, &reqwest), &url, 1);

    // HTTP/2 over TLS at C=64, multiplexed on one connection (ALPN h2 for all three).
    let raw_h2 = raw_client_with(client_tls_alpn(&rig, &[b"h2"]));
    let session_h2 = Session::builder()
        .add_root_certificate(Certificate::from_pem(rig.cert_pem.as_bytes()).unwrap())
        .trust_env(false)
        .build()
        .unwrap();
    let reqwest_h2 = reqwest::Client::builder()
        .tls_backend_preconfigured(client_tls_alpn(&rig, &[b"h2"]))
        .no_proxy()
        .build()
        .unwrap();
    report_rounds(
        &rt,
        (&raw_h2, &session_h2, &reqwest_h2),
        &rig,
        &[("https", 64, 100)],
        " HTTP/2",
    );
    let url = format!("https://{}/", rig.https);
    let g = group(c, "get_small_h2_tls_c64", 64);
    bench_clients(g, &rt, (&raw_h2, &session_h2, &reqwest_h2), &url, 64);

    // The same C=1 GETs with each client on a current-thread runtime: its connection task and
    // the request loop share one thread, so no request waits for a sleeping worker to be woken
    // (see benches/README.md on why that dominates C=1 above).
    let ct = current_thread_runtime();
    let _ct_guard = ct.enter();
    let raw_ct = raw_client(&rig);
    let session_ct = self::session(&rig);
    let reqwest_ct = reqwest_client(&rig);
    let url = format!("http://{}/", rig.http);
    // The C=64 rounds again on this runtime: the work alone, without the hand-offs between the
    // request loop and the worker thread that the runtime above adds (and that vary run to run).
    report_rounds(
        &ct,
        (&raw_ct, &session_ct, &reqwest_ct),
        &rig,
        &[("http", 64, 100), ("https", 64, 100)],
        " current-thread",
    );
    let g = group(c, "get_small_http_c1_current_thread", 1);
    bench_clients(g, &ct, (&raw_ct, &session_ct, &reqwest_ct), &url, 1);
}

/// One bench per client in `g`: `width` concurrent GETs of `url` on `rt` per iteration.
fn bench_clients(
    mut g: BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    (raw, session, reqwest): (&Raw, &Session, &reqwest::Client),
    url: &str,
    width: usize,
) {
    let uri: http::Uri = url.parse().unwrap();
    g.bench_function("raw_hyper_util", |b| {
        b.to_async(rt)
            .iter(|| join_all((0..width).map(|_| get_raw(raw, &uri))))
    });
    g.bench_function("session", |b| {
        b.to_async(rt)
            .iter(|| join_all((0..width).map(|_| get_session(session, url))))
    });
    g.bench_function("reqwest", |b| {
        b.to_async(rt)
            .iter(|| join_all((0..width).map(|_| get_reqwest(reqwest, url))))
    });
    g.finish();
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    if pinned() {
        pin_to(1);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Profiling mode, outside criterion:
/// `LOOPBACK_PROFILE=<raw|raw_headers|session|reqwest|client|facade>:<n>[:<mode>[+<mode>...]]`
/// makes `n` sequential plain-http GETs (small, of the 1 MiB body, 64 at once each, small on a
/// current-thread client runtime, or small over https with HTTP/1.1) with one client (after one
/// warm-up request) and exits, for `valgrind --tool=callgrind` (instructions) or `strace -f -c`
/// (system calls): the difference between two `n` is the cost per request, server included.
/// Session only, a logged-in one (three cookies for the server's host): `newpath`, each request
/// to a path not requested before (`/p<i>`); `newhost`, each to a host not seen before (the
/// server's other addresses, `LOOPBACK_HOSTS` of them, at least `n + 1`), a new connection each
/// time.
fn profile(spec: &str) {
    let mut fields = spec.split(':');
    let (client, n) = (fields.next().unwrap(), fields.next().expect("<client>:<n>"));
    let n: u32 = n.parse().expect("a count");
    // Modes, any number of them: `big`, `c64`, `ct`, `tls`, `cookie`, `newpath`, `newhost`.
    let modes: Vec<&str> = fields.flat_map(|f| f.split('+')).collect();
    let mode = |m: &str| modes.contains(&m);
    // `cookie`: every response sets `sid=abc`; `big`: the 1 MiB body.
    let path = if mode("big") {
        "big"
    } else if mode("cookie") {
        "cookie"
    } else {
        ""
    };
    // `c64`: each of the `n` steps is 64 concurrent GETs.
    let width = if mode("c64") { 64 } else { 1 };
    let rig = start_server();
    // `ct`: the client on a current-thread runtime (no worker thread to wake).
    let rt = if mode("ct") {
        current_thread_runtime()
    } else {
        one_worker_runtime()
    };
    let _guard = rt.enter();
    let scheme = if mode("tls") { "https" } else { "http" };
    let addr = if mode("tls") { rig.https } else { rig.http };
    let url = format!("{scheme}://{addr}/{path}");
    let uri: http::Uri = url.parse().unwrap();
    match client {
        "raw" => {
            let raw = raw_client(&rig);
            // `LOOPBACK_BUSY_NS=<ns>` (diagnostics): the raw client also spins that long before
            // each request, to see what the same extra work per request costs on each runtime.
            let busy = std::env::var("LOOPBACK_BUSY_NS").map_or(0, |v| v.parse().expect("ns"));
            rt.block_on(steps(n, width, || async {
                busy_wait(Duration::from_nanos(busy));
                get_raw(&raw, &uri).await
            }));
        }
        // Diagnostics: the raw client sending the same request head as the default Session
        // (its three default headers), built per request as a raw-client user would.
        "raw_headers" => {
            let raw = raw_client(&rig);
            rt.block_on(steps(n, width, || async {
                let req = http::Request::get(uri.clone())
                    .header(
                        http::header::USER_AGENT,
                        concat!("tower-requests/", env!("CARGO_PKG_VERSION")),
                    )
                    .header(http::header::ACCEPT, "*/*")
                    .header(http::header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let resp = raw.request(req).await.unwrap();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body.len(), expected_len(uri.path()));
            }));
        }
        // `facade` (diagnostics): the facade over this crate's pooled client, with no layers.
        "session" if mode("newpath") || mode("newhost") => {
            let session = session(&rig);
            for name in ["a", "b", "c"] {
                let url = tower_requests::Url::parse(&url).unwrap();
                session.cookies().set(name, "value", &url).unwrap();
            }
            let urls: Vec<String> = (0..=n as usize)
                .map(|i| {
                    if mode("newpath") {
                        format!("{scheme}://{addr}/p{i}")
                    } else {
                        format!("{scheme}://{}/", other_host(i, addr.port()))
                    }
                })
                .collect();
            let next = std::cell::Cell::new(0);
            rt.block_on(steps(n, width, || {
                let i = next.replace(next.get() + 1);
                get_session(&session, &urls[i])
            }));
        }
        "session" | "facade" => {
            let session = if client == "session" {
                session(&rig)
            } else {
                Session::from_service(diagnostic_client(&rig))
            };
            rt.block_on(steps(n, width, || get_session(&session, &url)));
        }
        // Diagnostics: this crate's pooled client alone (no layers, no facade).
        "client" => {
            let client = diagnostic_client(&rig);
            rt.block_on(steps(n, width, || async {
                let req = http::Request::get(uri.clone())
                    .body(tower_requests::Body::empty())
                    .unwrap();
                let resp = client.clone().oneshot(req).await.unwrap();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body.len(), expected_len(uri.path()));
            }));
        }
        "reqwest" => {
            let reqwest = reqwest_client(&rig);
            rt.block_on(steps(n, width, || get_reqwest(&reqwest, &url)));
        }
        other => {
            panic!("unknown client {other}: raw, raw_headers, session, reqwest, client, facade")
        }
    }
    eprintln!(
        "connections accepted: {}",
        ACCEPTED.load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// Spin (no sleep, no system call but the clock's) for `d`; nothing at all, not even a clock
/// read, for zero, so that the raw client's counts are untouched by default.
fn busy_wait(d: Duration) {
    if d.is_zero() {
        return;
    }
    let start = std::time::Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// `n + 1` steps (the first warms up) of `width` concurrent calls of `one`.
async fn steps<F, Fut>(n: u32, width: usize, one: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..=n {
        join_all((0..width).map(|_| one())).await;
    }
}

criterion_group!(benches, loopback);

fn main() {
    // `LOOPBACK_SERVE=<file>`: only the server, until killed; its addresses and certificate go
    // to `<file>` for clients run with `LOOPBACK_SERVER=<file>` (benches/instructions.sh).
    if let Ok(file) = std::env::var("LOOPBACK_SERVE") {
        start_local_server().write(&file);
        loop {
            std::thread::park();
        }
    }
    if let Ok(spec) = std::env::var("LOOPBACK_PROFILE") {
        return profile(&spec);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
