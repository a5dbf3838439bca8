//! TLS (tls-port, rediss://) with rustls, and the connection type the connection loop works on:
//! a plain TCP socket or one carrying TLS.
//!
//! The connection loop is readiness based (wait until readable or writable, then try a
//! non-blocking read or write), so TLS is driven the same way: ciphertext moves between the
//! socket and rustls with non-blocking reads and writes, and the loop sees plaintext. rustls may
//! hold encrypted records the socket has not taken yet; `tls_pending` tells the loop to keep
//! waiting for writability until they are out.

use std::io::{self, Read, Write};
use std::sync::Arc;

use bytes::BytesMut;
use parking_lot::Mutex;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::TcpStream;

use crate::config::Config;

/// Builds the TLS settings from tls-cert-file, tls-key-file, tls-ca-cert-file,
/// tls-auth-clients, tls-protocols and tls-ciphersuites; None when no certificate is set.
pub fn server_config(cfg: &Config) -> Result<Option<Arc<ServerConfig>>, String> {
    let cert_file = cfg.value("tls-cert-file");
    if cert_file.is_empty() {
        return Ok(None);
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .and_then(|it| it.collect())
        .map_err(|e| format!("Failed to load certificate: {cert_file}: {e}"))?;
    let key_file = cfg.value("tls-key-file");
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
    let mut provider = rustls::crypto::ring::default_provider();
    let suites = cfg.value("tls-ciphersuites");
    if !suites.is_empty() {
        let wanted: Vec<&str> = suites.split(':').collect();
        provider.cipher_suites.retain(|s| {
            let name = format!("{:?}", s.suite());
            // TLS 1.3 suites are chosen by tls-ciphersuites; TLS 1.2 ones (tls-ciphers, in
            // OpenSSL's names) are all kept.
            s.version().version != rustls::ProtocolVersion::TLSv1_3
                || wanted.contains(&name.as_str())
        });
    }
    let versions = protocol_versions(cfg.value("tls-protocols"))?;
    let builder = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&versions)
        .map_err(|e| format!("Invalid TLS settings: {e}"))?;
    let auth = cfg.value("tls-auth-clients");
    let ca_file = cfg.value("tls-ca-cert-file");
    let builder = if auth == "no" {
        builder.with_no_client_auth()
    } else {
        if ca_file.is_empty() {
            return Err(
                "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into(),
            );
        }
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(ca_file)
            .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?
        {
            let ca = ca.map_err(|e| format!("Failed to load CA certificate {ca_file}: {e}"))?;
            roots
                .add(ca)
                .map_err(|e| format!("Failed to load CA certificate {ca_file}: {e}"))?;
        }
        let verifier = WebPkiClientVerifier::builder(Arc::new(roots));
        let verifier = if auth == "optional" {
            verifier.allow_unauthenticated()
        } else {
            verifier
        };
        builder.with_client_cert_verifier(verifier.build().map_err(|e| e.to_string())?)
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("Failed to configure certificate and key: {e}"))?;
    config.alpn_protocols.clear();
    Ok(Some(Arc::new(config)))
}

/// tls-protocols ("TLSv1.2 TLSv1.3"; empty for both).
fn protocol_versions(text: &str) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    if text.trim().is_empty() {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    }
    text.split_whitespace()
        .map(|p| match p.to_ascii_lowercase().as_str() {
            "tlsv1.2" => Ok(&rustls::version::TLS12),
            "tlsv1.3" => Ok(&rustls::version::TLS13),
            _ => Err(format!("Invalid tls-protocols specified: {p}")),
        })
        .collect()
}

/// A client connection: plain TCP, or TCP carrying TLS.
pub enum Conn {
    Plain(TcpStream),
    Tls(TcpStream, Box<Mutex<rustls::ServerConnection>>),
}

/// rustls's reads and writes of ciphertext go through the socket without blocking.
struct Socket<'a>(&'a TcpStream);

impl Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Conn {
    pub fn new(tcp: TcpStream, tls: Option<Arc<ServerConfig>>) -> io::Result<Conn> {
        Ok(match tls {
            None => Conn::Plain(tcp),
            Some(config) => {
                let session = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
                Conn::Tls(tcp, Box::new(Mutex::new(session)))
            }
        })
    }

    pub fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(tcp) | Conn::Tls(tcp, _) => tcp,
        }
    }

    /// Waits until reading may make progress (plaintext rustls already decrypted counts).
    pub async fn readable(&self) -> io::Result<()> {
        if let Conn::Tls(_, session) = self {
            let mut s = session.lock();
            if s.process_new_packets()
                .is_ok_and(|state| state.plaintext_bytes_to_read() > 0)
            {
                return Ok(());
            }
        }
        self.tcp().readable().await
    }

    pub async fn writable(&self) -> io::Result<()> {
        self.tcp().writable().await
    }

    /// Reads what is available into `buf` without blocking: Ok(0) at the end of the stream,
    /// WouldBlock when nothing is there yet.
    pub fn try_read_buf(&self, buf: &mut BytesMut) -> io::Result<usize> {
        let (tcp, session) = match self {
            Conn::Plain(tcp) => return tcp.try_read_buf(buf),
            Conn::Tls(tcp, session) => (tcp, session),
        };
        let mut s = session.lock();
        loop {
            let state = s.process_new_packets().map_err(|e| {
                // Tell the peer why (an alert), then fail the connection.
                let _ = s.write_tls(&mut Socket(tcp));
                io::Error::new(io::ErrorKind::InvalidData, e)
            })?;
            // Handshake messages and alerts rustls wants to send go out as soon as possible.
            flush_session(&mut s, tcp)?;
            if state.plaintext_bytes_to_read() > 0 {
                let room = buf.capacity() - buf.len();
                let want = state.plaintext_bytes_to_read().min(room.max(1));
                let start = buf.len();
                buf.resize(start + want, 0);
                let got = s.reader().read(&mut buf[start..]);
                buf.truncate(start + *got.as_ref().unwrap_or(&0));
                return got;
            }
            if state.peer_has_closed() {
                return Ok(0);
            }
            match s.read_tls(&mut Socket(tcp)) {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes what the socket takes now: for TLS, `data` is encrypted into records and as many
    /// records as the socket accepts are sent (the rest wait, see `tls_pending`).
    pub fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        let (tcp, session) = match self {
            Conn::Plain(tcp) => return tcp.try_write(data),
            Conn::Tls(tcp, session) => (tcp, session),
        };
        let mut s = session.lock();
        flush_session(&mut s, tcp)?;
        if s.wants_write() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = s.writer().write(data)?;
        flush_session(&mut s, tcp)?;
        Ok(n)
    }

    /// Encrypted records are still waiting for the socket.
    pub fn tls_pending(&self) -> bool {
        match self {
            Conn::Plain(_) => false,
            Conn::Tls(_, session) => session.lock().wants_write(),
        }
    }

    /// Sends what rustls still holds; Ok even if the socket cannot take all of it now.
    pub fn flush_pending(&self) -> io::Result<()> {
        match self {
            Conn::Plain(_) => Ok(()),
            Conn::Tls(tcp, session) => flush_session(&mut session.lock(), tcp),
        }
    }

    /// Writes all of `data` (for the few messages sent outside the connection loop).
    pub async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() || self.tls_pending() {
            self.writable().await?;
            match self.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Ends the connection: TLS's close_notify first, then the socket's write side.
    pub async fn shutdown(&mut self) {
        if let Conn::Tls(_, session) = self {
            session.get_mut().send_close_notify();
            let _ = self.write_all(&[]).await;
        }
        use tokio::io::AsyncWriteExt;
        let tcp = match self {
            Conn::Plain(tcp) | Conn::Tls(tcp, _) => tcp,
        };
        let _ = tcp.shutdown().await;
    }
}

fn flush_session(s: &mut rustls::ServerConnection, tcp: &TcpStream) -> io::Result<()> {
    while s.wants_write() {
        match s.write_tls(&mut Socket(tcp)) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
