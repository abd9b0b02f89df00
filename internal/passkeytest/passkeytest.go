// Package passkeytest is a passkey in software for tests: a P-256 key pair
// that answers WebAuthn creation and request options as a platform
// authenticator with user verification would, and a client that enrols,
// signs in and decides on plans on the review page with it. The browser
// tests use Chrome's own virtual authenticator; this one lets protocol
// tests forge, replay and swap assertions at will, and end-to-end tests
// approve without a browser.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// Key is a passkey held by a test.
type Key struct {
	t      testing.TB
	origin string
	rpID   string
	key    *ecdsa.PrivateKey
	id     []byte
	// Handle is the user handle the key was registered with.
	Handle  []byte
	counter uint32
	// UV is whether the key claims the user was verified.
	UV bool
}

// New returns a key for the relying party rpID, used from origin.
func New(t testing.TB, origin, rpID string) *Key {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &Key{t: t, origin: origin, rpID: rpID, key: k, id: id, UV: true}
}

var b64 = base64.RawURLEncoding

func (k *Key) authData(withCredential bool) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	flags := byte(0x01) // user present
	if k.UV {
		flags |= 0x04
	}
	if withCredential {
		flags |= 0x40
	}
	k.counter++
	out := append([]byte{}, rp[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, k.counter)
	if withCredential {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.id)))
		out = append(out, k.id...)
		cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pad32(k.key.X.Bytes()), -3: pad32(k.key.Y.Bytes())})
		if err != nil {
			k.t.Fatal(err)
		}
		out = append(out, cose...)
	}
	return out
}

func pad32(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }

func (k *Key) clientData(typ string, challenge string) []byte {
	data, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return data
}

// ID is the credential's id.
func (k *Key) ID() []byte { return k.id }

// Create answers creation options (the JSON the server's begin returned)
// with a registration response.
func (k *Key) Create(options []byte) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		k.t.Fatalf("creation options: %v: %s", err, options)
	}
	k.Handle, _ = b64.DecodeString(o.PublicKey.User.ID)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(true)})
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(k.clientData("webauthn.create", o.PublicKey.Challenge)), "attestationObject": b64.EncodeToString(att)},
	})
	return out
}

// Get answers request options with an assertion signed by this key.
func (k *Key) Get(options []byte) []byte {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		k.t.Fatalf("request options: %v: %s", err, options)
	}
	return k.sign(o.PublicKey.Challenge)
}

func (k *Key) sign(challenge string) []byte {
	ad := k.authData(false)
	cd := k.clientData("webauthn.get", challenge)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.Handle)},
	})
	return out
}
