package review_test

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

// softKey is a passkey in software: a P-256 key pair held by a test, which
// answers WebAuthn creation and request options as a platform authenticator
// with user verification would. The browser tests use Chrome's own virtual
// authenticator; this one lets the protocol tests forge, replay and swap
// assertions at will.
type softKey struct {
	t       testing.TB
	origin  string
	rpID    string
	key     *ecdsa.PrivateKey
	id      []byte
	handle  []byte
	counter uint32
	// uv is whether the key claims the user was verified.
	uv bool
}

func newSoftKey(t testing.TB, origin, rpID string) *softKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{t: t, origin: origin, rpID: rpID, key: k, id: id, uv: true}
}

var b64 = base64.RawURLEncoding

func (k *softKey) authData(withCredential bool) []byte {
	rp := sha256.Sum256([]byte(k.rpID))
	flags := byte(0x01) // user present
	if k.uv {
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

func (k *softKey) clientData(typ string, challenge string) []byte {
	data, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return data
}

// create answers creation options (the JSON the server's begin returned)
// with a registration response.
func (k *softKey) create(options []byte) []byte {
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
	k.handle, _ = b64.DecodeString(o.PublicKey.User.ID)
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

// get answers request options with an assertion signed by this key.
func (k *softKey) get(options []byte) []byte {
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

func (k *softKey) sign(challenge string) []byte {
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
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.handle)},
	})
	return out
}
