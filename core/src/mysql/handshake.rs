//! The connection phase: the server's HandshakeV10 greeting, the client's HandshakeResponse41
//! (or SSLRequest), and AuthSwitchRequest, each encoded and decoded.

use super::capabilities::{CONNECT_ATTRS, CONNECT_WITH_DB, PLUGIN_AUTH, PLUGIN_AUTH_LENENC_CLIENT_DATA, SECURE_CONNECTION};
use crate::codec::{put_lenenc, Reader, Short};

/// The server's greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeV10 {
    pub server_version: String,
    pub connection_id: u32,
    /// The 20-byte scramble (nonce) for password authentication.
    pub scramble: [u8; 20],
    pub capabilities: u32,
    pub charset: u8,
    pub status: u16,
    /// MariaDB's extended capabilities (in the reserved bytes).
    pub mariadb_capabilities: u32,
    pub auth_plugin: String,
}

impl HandshakeV10 {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(10);
        out.extend_from_slice(self.server_version.as_bytes());
        out.push(0);
        out.extend_from_slice(&self.connection_id.to_le_bytes());
        out.extend_from_slice(&self.scramble[..8]);
        out.push(0);
        out.extend_from_slice(&(self.capabilities as u16).to_le_bytes());
        out.push(self.charset);
        out.extend_from_slice(&self.status.to_le_bytes());
        out.extend_from_slice(&((self.capabilities >> 16) as u16).to_le_bytes());
        out.push(21);
        out.extend_from_slice(&[0; 6]);
        out.extend_from_slice(&self.mariadb_capabilities.to_le_bytes());
        out.extend_from_slice(&self.scramble[8..]);
        out.push(0);
        out.extend_from_slice(self.auth_plugin.as_bytes());
        out.push(0);
    }

    pub fn decode(payload: &[u8]) -> Result<Self, Short> {
        let mut r = Reader::new(payload);
        let _protocol = r.u8("protocol_version")?;
        let server_version = String::from_utf8_lossy(r.cstr("server_version")?).into_owned();
        let connection_id = r.u32("connection_id")?;
        let mut scramble = [0u8; 20];
        scramble[..8].copy_from_slice(r.take(8, "auth_plugin_data_1")?);
        r.u8("filler")?;
        let mut capabilities = u32::from(r.u16("capabilities_lower")?);
        let charset = if r.is_empty() { 0 } else { r.u8("charset")? };
        let status = if r.is_empty() { 0 } else { r.u16("status")? };
        let mut mariadb_capabilities = 0;
        let mut auth_plugin = String::new();
        if !r.is_empty() {
            capabilities |= u32::from(r.u16("capabilities_upper")?) << 16;
            let data_len = r.u8("auth_plugin_data_len")?;
            r.take(6, "reserved")?;
            mariadb_capabilities = r.u32("mariadb_capabilities")?;
            if capabilities & SECURE_CONNECTION != 0 {
                let n = (usize::from(data_len).saturating_sub(8)).max(13);
                let part2 = r.take(n, "auth_plugin_data_2")?;
                let m = part2.len().min(12);
                scramble[8..8 + m].copy_from_slice(&part2[..m]);
            }
            if capabilities & PLUGIN_AUTH != 0 {
                auth_plugin = String::from_utf8_lossy(r.cstr("auth_plugin_name").unwrap_or(r.rest())).into_owned();
            }
        }
        Ok(HandshakeV10 { server_version, connection_id, scramble, capabilities, charset, status, mariadb_capabilities, auth_plugin })
    }
}

/// The client's reply to the greeting. A reply of 32 bytes with SSL set is an SSLRequest: TLS
/// starts, and the full response follows over it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HandshakeResponse {
    pub capabilities: u32,
    pub max_packet: u32,
    pub charset: u8,
    pub mariadb_capabilities: u32,
    pub user: String,
    pub auth_response: Vec<u8>,
    pub database: Option<String>,
    pub auth_plugin: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// Length of an SSLRequest (and of the fixed part of a HandshakeResponse41).
pub const SSL_REQUEST_LEN: usize = 32;

impl HandshakeResponse {
    /// Whether `payload` is an SSLRequest rather than a full response.
    pub fn is_ssl_request(payload: &[u8]) -> bool {
        payload.len() == SSL_REQUEST_LEN && payload.len() >= 4 && u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]) & super::capabilities::SSL != 0
    }

    pub fn decode(payload: &[u8]) -> Result<Self, Short> {
        let mut r = Reader::new(payload);
        let capabilities = r.u32("capabilities")?;
        let max_packet = r.u32("max_packet_size")?;
        let charset = r.u8("charset")?;
        r.take(19, "filler")?;
        let mariadb_capabilities = r.u32("mariadb_capabilities")?;
        let user = String::from_utf8_lossy(r.cstr("user")?).into_owned();
        let auth_response = if capabilities & PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            r.lenenc_bytes("auth_response")?.to_vec()
        } else if capabilities & SECURE_CONNECTION != 0 {
            let n = r.u8("auth_response_len")?;
            r.take(usize::from(n), "auth_response")?.to_vec()
        } else {
            r.cstr("auth_response")?.to_vec()
        };
        let database = if capabilities & CONNECT_WITH_DB != 0 && !r.is_empty() {
            Some(String::from_utf8_lossy(r.cstr("database")?).into_owned())
        } else {
            None
        };
        let auth_plugin = if capabilities & PLUGIN_AUTH != 0 && !r.is_empty() {
            Some(String::from_utf8_lossy(r.cstr("auth_plugin").unwrap_or_default()).into_owned())
        } else {
            None
        };
        let mut attributes = Vec::new();
        if capabilities & CONNECT_ATTRS != 0 && !r.is_empty() {
            let block = r.lenenc_bytes("connect_attrs")?;
            let mut a = Reader::new(block);
            while !a.is_empty() {
                let k = String::from_utf8_lossy(a.lenenc_bytes("attr_key")?).into_owned();
                let v = String::from_utf8_lossy(a.lenenc_bytes("attr_value")?).into_owned();
                attributes.push((k, v));
            }
        }
        Ok(HandshakeResponse { capabilities, max_packet, charset, mariadb_capabilities, user, auth_response, database, auth_plugin, attributes })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.capabilities.to_le_bytes());
        out.extend_from_slice(&self.max_packet.to_le_bytes());
        out.push(self.charset);
        out.extend_from_slice(&[0; 19]);
        out.extend_from_slice(&self.mariadb_capabilities.to_le_bytes());
        out.extend_from_slice(self.user.as_bytes());
        out.push(0);
        if self.capabilities & PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
            put_lenenc(out, self.auth_response.len() as u64);
        } else {
            out.push(self.auth_response.len() as u8);
        }
        out.extend_from_slice(&self.auth_response);
        if self.capabilities & CONNECT_WITH_DB != 0 {
            out.extend_from_slice(self.database.as_deref().unwrap_or("").as_bytes());
            out.push(0);
        }
        if self.capabilities & PLUGIN_AUTH != 0 {
            out.extend_from_slice(self.auth_plugin.as_deref().unwrap_or("").as_bytes());
            out.push(0);
        }
        if self.capabilities & CONNECT_ATTRS != 0 {
            let mut block = Vec::new();
            for (k, v) in &self.attributes {
                put_lenenc(&mut block, k.len() as u64);
                block.extend_from_slice(k.as_bytes());
                put_lenenc(&mut block, v.len() as u64);
                block.extend_from_slice(v.as_bytes());
            }
            put_lenenc(out, block.len() as u64);
            out.extend_from_slice(&block);
        }
    }
}

/// AuthSwitchRequest (0xFE): use this plugin with this scramble instead.
pub fn encode_auth_switch(plugin: &str, scramble: &[u8; 20], out: &mut Vec<u8>) {
    out.push(0xfe);
    out.extend_from_slice(plugin.as_bytes());
    out.push(0);
    out.extend_from_slice(scramble);
    out.push(0);
}

/// Reads an AuthSwitchRequest: the plugin name and its data (scramble).
pub fn decode_auth_switch(payload: &[u8]) -> Result<(String, Vec<u8>), Short> {
    let mut r = Reader::new(payload);
    r.u8("auth_switch_header")?;
    let plugin = String::from_utf8_lossy(r.cstr("plugin")?).into_owned();
    let mut data = r.rest().to_vec();
    if data.last() == Some(&0) {
        data.pop();
    }
    Ok((plugin, data))
}
