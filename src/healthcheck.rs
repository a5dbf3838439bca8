//! `ferrodis healthcheck [redis.conf] [--directive value ...]`: the container healthcheck. It
//! reads the same configuration as the server (so it finds the port, bind address and password
//! the server uses), sends PING (after AUTH when a password is set) and exits 0 only on PONG.
//! FERRODIS_PASSWORD (or REDIS_PASSWORD) and FERRODIS_USER in the environment override the
//! configured password and pick an ACL user. A server with only a tls-port is checked over TLS:
//! its certificate must chain to tls-ca-cert-file (the name in it is not checked: the check
//! dials the server's own address), and the client certificate is tls-client-cert-file, or
//! tls-cert-file as Redis uses for its own outgoing connections.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::config::Config;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the check; the process's exit code.
pub fn run(args: &[String]) -> i32 {
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let password = ["FERRODIS_PASSWORD", "REDIS_PASSWORD"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|p| !p.is_empty()))
        .map(String::into_bytes)
        .or(config.requirepass.clone().filter(|p| !p.is_empty()));
    let user = std::env::var("FERRODIS_USER")
        .ok()
        .filter(|u| !u.is_empty());
    let (port, tls) = if config.port == 0 && config.tls_port != 0 {
        match client_tls(&config) {
            Ok(tls) => (config.tls_port, Some(tls)),
            Err(e) => {
                eprintln!("ferrodis healthcheck: {e}");
                return 2;
            }
        }
    } else {
        (config.port, None)
    };
    match ping(
        &host(&config),
        port,
        tls,
        user.as_deref(),
        password.as_deref(),
    ) {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("ferrodis healthcheck: {why}");
            1
        }
    }
}

/// Where to reach the server: its first bind address, or loopback when it listens everywhere.
fn host(config: &Config) -> String {
    let first = config
        .bind
        .first()
        .map(|a| a.trim_start_matches('-'))
        .unwrap_or("127.0.0.1");
    match first {
        "*" | "0.0.0.0" | "" => "127.0.0.1".into(),
        "::" | "::*" => "::1".into(),
        other => other.into(),
    }
}

/// The TLS client settings from the server's own configuration.
fn client_tls(config: &Config) -> Result<Arc<ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let ca_file = config.value("tls-ca-cert-file");
    for ca in CertificateDer::pem_file_iter(ca_file).map_err(|e| format!("{ca_file}: {e}"))? {
        roots
            .add(ca.map_err(|e| format!("{ca_file}: {e}"))?)
            .map_err(|e| format!("{ca_file}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| e.to_string())?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ChainOnly(chain)));
    let (cert, key) = match config.value("tls-client-cert-file") {
        "" => (config.value("tls-cert-file"), config.value("tls-key-file")),
        cert => (cert, config.value("tls-client-key-file")),
    };
    let tls = if cert.is_empty() {
        builder.with_no_client_auth()
    } else {
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("{cert}: {e}"))?;
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
        builder
            .with_client_auth_cert(certs, key)
            .map_err(|e| e.to_string())?
    };
    Ok(Arc::new(tls))
}

/// Verifies the server's chain and signatures but not the name in its certificate.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

fn ping(
    host: &str,
    port: u16,
    tls: Option<Arc<ClientConfig>>,
    user: Option<&str>,
    password: Option<&[u8]>,
) -> Result<(), String> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port}: no address"))?;
    let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{addr}: {e}"))?;
    tcp.set_read_timeout(Some(TIMEOUT))
        .and_then(|_| tcp.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut stream: Box<dyn ReadWrite> = match tls {
        None => Box::new(tcp),
        Some(config) => {
            let name = ServerName::from(addr.ip());
            let session = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
            Box::new(rustls::StreamOwned::new(session, tcp))
        }
    };
    let mut request = Vec::new();
    if let Some(password) = password {
        let mut auth: Vec<&[u8]> = vec![b"AUTH"];
        auth.extend(user.map(str::as_bytes));
        auth.push(password);
        crate::protocol::encode_command(&mut request, auth.into_iter());
    }
    crate::protocol::encode_command(&mut request, [&b"PING"[..]].into_iter());
    stream.write_all(&request).map_err(|e| e.to_string())?;
    let replies = read_lines(&mut *stream, if password.is_some() { 2 } else { 1 })?;
    match replies.last().map(String::as_str) {
        Some("+PONG") if replies.iter().all(|r| r.starts_with('+')) => Ok(()),
        _ => Err(format!("unexpected reply {replies:?}")),
    }
}

/// The first `n` reply lines (the replies to AUTH and PING are one line each).
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn read_lines(stream: &mut dyn ReadWrite, n: usize) -> Result<Vec<String>, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while buf.windows(2).filter(|w| w == b"\r\n").count() < n {
        let got = stream.read(&mut chunk).map_err(|e| e.to_string())?;
        if got == 0 {
            return Err(format!(
                "connection closed after {:?}",
                String::from_utf8_lossy(&buf)
            ));
        }
        buf.extend_from_slice(&chunk[..got]);
    }
    Ok(String::from_utf8_lossy(&buf)
        .split("\r\n")
        .take(n)
        .map(str::to_string)
        .collect())
}
