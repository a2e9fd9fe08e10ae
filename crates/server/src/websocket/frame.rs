//! WebSocket frames (RFC 6455, section 5): reading a client's frame header, writing a server's.
//!
//! Pure functions over byte slices, so every rule a peer can break is tested without a socket.
//! We negotiate no extensions, so any reserved bit set is an error, and a client's frames must be
//! masked (section 5.1).

use super::SocketError;

/// The longest payload a control frame may carry (section 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// What a frame carries (section 5.2); the reserved opcodes are refused when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl OpCode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong: short, never fragmented, allowed between a message's fragments.
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A client frame's header, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The last fragment of its message.
    pub fin: bool,
    pub opcode: OpCode,
    /// The client's masking key.
    pub mask: [u8; 4],
    /// Length of the payload that follows the header.
    pub payload_len: usize,
    /// Length of the header itself.
    pub header_len: usize,
}

impl Header {
    /// Header and payload together.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.payload_len
    }
}

/// Parses the header at the start of `bytes`: `Ok(None)` when more bytes are needed to tell.
/// A payload longer than `max_payload` is refused from its header alone, before it is buffered.
pub fn parse_client_header(bytes: &[u8], max_payload: usize) -> Result<Option<Header>, SocketError> {
    let [first, second, ..] = *bytes else { return Ok(None) };
    if first & 0x70 != 0 {
        return Err(SocketError::Protocol("a reserved bit is set, and no extension was negotiated"));
    }
    let opcode = OpCode::from_bits(first & 0x0F).ok_or(SocketError::Protocol("reserved opcode"))?;
    let fin = first & 0x80 != 0;
    if second & 0x80 == 0 {
        return Err(SocketError::Protocol("client frames must be masked"));
    }
    let (payload_len, length_bytes) = match second & 0x7F {
        126 => match bytes.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 2),
            None => return Ok(None),
        },
        127 => match bytes.get(2..10) {
            Some(b) => {
                let len = u64::from_be_bytes(b.try_into().expect("eight bytes"));
                if len >> 63 != 0 {
                    return Err(SocketError::Protocol("the payload length's most significant bit is set"));
                }
                (len, 8)
            }
            None => return Ok(None),
        },
        short => (u64::from(short), 0),
    };
    if opcode.is_control() && (!fin || payload_len > MAX_CONTROL_PAYLOAD as u64) {
        return Err(SocketError::Protocol("control frames are short and never fragmented"));
    }
    let payload_len =
        usize::try_from(payload_len).ok().filter(|len| *len <= max_payload).ok_or(SocketError::TooLarge)?;
    let mask_at = 2 + length_bytes;
    let Some(mask) = bytes.get(mask_at..mask_at + 4) else { return Ok(None) };
    Ok(Some(Header { fin, opcode, mask: mask.try_into().expect("four bytes"), payload_len, header_len: mask_at + 4 }))
}

/// Undoes the client's masking in place (section 5.3). Eight bytes at a time: a 20 KB mutation
/// batch is the common large frame, and this runs on every byte of it.
pub fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes((&*chunk).try_into().expect("eight bytes")) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *byte ^= key;
    }
}

/// Appends a whole, unmasked server frame (section 5.1: servers never mask).
pub fn write_server_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    out.reserve(payload.len() + 10);
    out.push(0x80 | opcode.bits());
    match payload.len() {
        len @ 0..=125 => out.push(len as u8),
        len @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// The payload of a close frame: the status code, then a reason that fits a control frame.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    payload
}

/// A client frame, masked with `mask`, the way a browser writes it.
#[cfg(test)]
pub fn client_frame(fin: bool, opcode: OpCode, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    write_server_frame(&mut out, opcode, payload);
    out[0] = (out[0] & 0x7F) | if fin { 0x80 } else { 0 };
    out[1] |= 0x80;
    let header_len = out.len() - payload.len();
    let mut body = out.split_off(header_len);
    unmask(&mut body, mask);
    out.extend_from_slice(&mask);
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_each_length_form_parse() {
        for len in [0, 5, 125, 126, 300, 65_535, 65_536, 200_000] {
            let payload = vec![b'x'; len];
            let frame = client_frame(true, OpCode::Binary, &payload, [1, 2, 3, 4]);
            let header = parse_client_header(&frame, 1 << 20).unwrap().unwrap();
            assert_eq!(header.payload_len, len);
            assert_eq!(header.frame_len(), frame.len());
            assert_eq!(header.opcode, OpCode::Binary);
            assert!(header.fin);
        }
    }

    #[test]
    fn a_header_cut_anywhere_asks_for_more() {
        let frame = client_frame(true, OpCode::Text, &vec![b'a'; 70_000], [9, 8, 7, 6]);
        for cut in 0..14 {
            assert_eq!(parse_client_header(&frame[..cut], 1 << 20).unwrap(), None, "cut at {cut}");
        }
        assert!(parse_client_header(&frame[..14], 1 << 20).unwrap().is_some());
    }

    #[test]
    fn masking_matches_the_byte_by_byte_definition_at_every_length() {
        let mask = [0xA1, 0xB2, 0xC3, 0xD4];
        for len in 0..40 {
            let original: Vec<u8> = (0..len as u8).collect();
            let expected: Vec<u8> = original.iter().enumerate().map(|(i, byte)| byte ^ mask[i % 4]).collect();
            let mut bytes = original.clone();
            unmask(&mut bytes, mask);
            assert_eq!(bytes, expected, "length {len}");
        }
    }

    #[test]
    fn a_masked_frame_reads_back_as_sent() {
        let frame = client_frame(true, OpCode::Text, b"hello, agent", [0x37, 0xFA, 0x21, 0x3D]);
        let header = parse_client_header(&frame, 1024).unwrap().unwrap();
        let mut payload = frame[header.header_len..].to_vec();
        unmask(&mut payload, header.mask);
        assert_eq!(payload, b"hello, agent");
    }

    #[test]
    fn broken_rules_are_refused() {
        let ok = client_frame(true, OpCode::Text, b"hi", [1, 2, 3, 4]);
        let refuse = |bytes: &[u8]| parse_client_header(bytes, 1024).unwrap_err();

        let mut unmasked = ok.clone();
        unmasked[1] &= 0x7F;
        assert!(matches!(refuse(&unmasked), SocketError::Protocol(_)));

        let mut reserved_bit = ok.clone();
        reserved_bit[0] |= 0x40;
        assert!(matches!(refuse(&reserved_bit), SocketError::Protocol(_)));

        let mut reserved_opcode = ok.clone();
        reserved_opcode[0] = 0x83;
        assert!(matches!(refuse(&reserved_opcode), SocketError::Protocol(_)));

        let fragmented_ping = client_frame(false, OpCode::Ping, b"", [1, 2, 3, 4]);
        assert!(matches!(refuse(&fragmented_ping), SocketError::Protocol(_)));

        let long_ping = client_frame(true, OpCode::Ping, &[0; 126], [1, 2, 3, 4]);
        assert!(matches!(refuse(&long_ping), SocketError::Protocol(_)));

        let mut huge = vec![0x82, 0xFF];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        huge.extend_from_slice(&[1, 2, 3, 4]);
        assert!(matches!(refuse(&huge), SocketError::Protocol(_)));

        let too_large = client_frame(true, OpCode::Binary, &[0; 2000], [1, 2, 3, 4]);
        assert!(matches!(refuse(&too_large), SocketError::TooLarge));
    }

    #[test]
    fn server_frames_are_unmasked_and_final() {
        let mut out = Vec::new();
        write_server_frame(&mut out, OpCode::Text, &[b'z'; 300]);
        assert_eq!(out[0], 0x81);
        assert_eq!(out[1], 126);
        assert_eq!(u16::from_be_bytes([out[2], out[3]]), 300);
        assert_eq!(out.len(), 4 + 300);
    }

    #[test]
    fn a_close_reason_is_cut_to_fit_on_a_character_boundary() {
        let payload = close_payload(1009, &"é".repeat(100));
        assert!(payload.len() <= MAX_CONTROL_PAYLOAD);
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1009);
        assert!(std::str::from_utf8(&payload[2..]).is_ok());
    }
}
