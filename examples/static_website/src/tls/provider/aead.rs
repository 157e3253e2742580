//! TLS 1.3's record protection: AES-128-GCM and ChaCha20-Poly1305 (RustCrypto's `aes-gcm`
//! and `chacha20poly1305`, which use AES-NI and CLMUL where the processor has them), sealing
//! and opening records in place.

use alloc::boxed::Box;
use core::marker::PhantomData;
use rustls::crypto::cipher::{
    AeadKey, BorrowedPayload, InboundOpaqueMessage, InboundPlainMessage, Iv, MessageDecrypter,
    MessageEncrypter, Nonce, OutboundOpaqueMessage, OutboundPlainMessage, PrefixedPayload,
    Tls13AeadAlgorithm, UnsupportedOperationError, make_tls13_aad,
};
use rustls::{ConnectionTrafficSecrets, ContentType, Error, ProtocolVersion};

/// The tag both AEADs append: 16 bytes.
const TAG_LEN: usize = 16;

/// A TLS 1.3 AEAD over RustCrypto cipher `A`.
pub struct Tls13Aead<A> {
    /// The secrets' form, for kernel offload and key export.
    secrets: fn(AeadKey, Iv) -> ConnectionTrafficSecrets,
    cipher: PhantomData<fn() -> A>,
}

/// AES-128-GCM.
pub static AES_128_GCM: Tls13Aead<aes_gcm::Aes128Gcm> = Tls13Aead {
    secrets: |key, iv| ConnectionTrafficSecrets::Aes128Gcm { key, iv },
    cipher: PhantomData,
};

/// ChaCha20-Poly1305.
pub static CHACHA20_POLY1305: Tls13Aead<chacha20poly1305::ChaCha20Poly1305> = Tls13Aead {
    secrets: |key, iv| ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv },
    cipher: PhantomData,
};

/// What both ciphers are to RustCrypto.
/// (TLS 1.3's nonces are 12 bytes, as both ciphers take.)
pub trait Cipher:
    aead::AeadInPlace<NonceSize = aead::consts::U12> + aead::KeyInit + Send + Sync + 'static
{
}
impl<A> Cipher for A where
    A: aead::AeadInPlace<NonceSize = aead::consts::U12> + aead::KeyInit + Send + Sync + 'static
{
}

impl<A: Cipher> Tls13AeadAlgorithm for Tls13Aead<A> {
    fn encrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageEncrypter> {
        Box::new(Protected::<A>::new(&key, iv))
    }

    fn decrypter(&self, key: AeadKey, iv: Iv) -> Box<dyn MessageDecrypter> {
        Box::new(Protected::<A>::new(&key, iv))
    }

    fn key_len(&self) -> usize {
        <A as aead::KeySizeUser>::key_size()
    }

    fn extract_keys(
        &self,
        key: AeadKey,
        iv: Iv,
    ) -> Result<ConnectionTrafficSecrets, UnsupportedOperationError> {
        Ok((self.secrets)(key, iv))
    }
}

/// One direction's cipher and its IV.
struct Protected<A> {
    cipher: A,
    iv: Iv,
}

impl<A: Cipher> Protected<A> {
    fn new(key: &AeadKey, iv: Iv) -> Self {
        // rustls makes the key `key_len()` long, the length the cipher takes.
        let cipher = A::new_from_slice(key.as_ref()).expect("a key of the cipher's length");
        Protected { cipher, iv }
    }
}

impl<A: Cipher> MessageEncrypter for Protected<A> {
    fn encrypt(
        &mut self,
        message: OutboundPlainMessage<'_>,
        seq: u64,
    ) -> Result<OutboundOpaqueMessage, Error> {
        let total_len = self.encrypted_payload_len(message.payload.len());
        let mut payload = PrefixedPayload::with_capacity(total_len);
        payload.extend_from_chunks(&message.payload);
        payload.extend_from_slice(&message.typ.to_array());
        let nonce = Nonce::new(&self.iv, seq).0;
        self.cipher
            .encrypt_in_place(
                &nonce.into(),
                &make_tls13_aad(total_len),
                &mut Sealing(&mut payload),
            )
            .map_err(|_| Error::EncryptError)?;
        // TLS 1.3 records carry TLS 1.2's version (RFC 8446, 5.1).
        Ok(OutboundOpaqueMessage::new(
            ContentType::ApplicationData,
            ProtocolVersion::TLSv1_2,
            payload,
        ))
    }

    fn encrypted_payload_len(&self, payload_len: usize) -> usize {
        payload_len + 1 + TAG_LEN
    }
}

impl<A: Cipher> MessageDecrypter for Protected<A> {
    fn decrypt<'a>(
        &mut self,
        mut message: InboundOpaqueMessage<'a>,
        seq: u64,
    ) -> Result<InboundPlainMessage<'a>, Error> {
        let payload = &mut message.payload;
        if payload.len() < TAG_LEN {
            return Err(Error::DecryptError);
        }
        let nonce = Nonce::new(&self.iv, seq).0;
        let aad = make_tls13_aad(payload.len());
        self.cipher
            .decrypt_in_place(&nonce.into(), &aad, &mut Opening(payload))
            .map_err(|_| Error::DecryptError)?;
        message.into_tls13_unpadded_message()
    }
}

/// An outgoing record's payload as RustCrypto's in-place buffer (the tag appended).
struct Sealing<'a>(&'a mut PrefixedPayload);

impl AsRef<[u8]> for Sealing<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref()
    }
}

impl AsMut<[u8]> for Sealing<'_> {
    fn as_mut(&mut self) -> &mut [u8] {
        self.0.as_mut()
    }
}

impl aead::Buffer for Sealing<'_> {
    fn extend_from_slice(&mut self, other: &[u8]) -> aead::Result<()> {
        self.0.extend_from_slice(other);
        Ok(())
    }

    fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
}

/// An incoming record's payload as RustCrypto's in-place buffer (the tag cut off).
struct Opening<'a, 'p>(&'a mut BorrowedPayload<'p>);

impl AsRef<[u8]> for Opening<'_, '_> {
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

impl AsMut<[u8]> for Opening<'_, '_> {
    fn as_mut(&mut self) -> &mut [u8] {
        self.0
    }
}

impl aead::Buffer for Opening<'_, '_> {
    fn extend_from_slice(&mut self, _: &[u8]) -> aead::Result<()> {
        // Opening only shortens the payload.
        Err(aead::Error)
    }

    fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }
}
