// Command archive packs release archives and their checksums, so that
// `make release` needs neither zip nor a sha256sum that macOS names
// differently, and two builds of one commit give identical archives (fixed
// modification times, sorted entries, no owner names).
//
//	archive -mtime UNIX -o dist/NAME.tar.gz DIR   # or NAME.zip
//	archive -sums dist/SHA256SUMS FILE...
//
// The archive holds DIR's files under a top folder named after DIR.
// It imports nothing from lastmile.
package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "", "archive to write: .tar.gz or .zip")
	sums := flag.String("sums", "", "checksum file to write for the files named")
	mtime := flag.Int64("mtime", 0, "modification time of every entry, in Unix seconds (default: now)")
	flag.Parse()
	var err error
	switch {
	case *sums != "":
		err = writeSums(*sums, flag.Args())
	case *out != "" && flag.NArg() == 1:
		t := time.Now()
		if *mtime > 0 {
			t = time.Unix(*mtime, 0)
		}
		err = writeArchive(*out, flag.Arg(0), t.UTC())
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "archive:", err)
		os.Exit(1)
	}
}

type entry struct {
	name string // slash-separated, under the top folder
	path string
	mode fs.FileMode
}

// files lists dir's regular files in lexical order (WalkDir's), executables
// kept executable.
func files(dir string) ([]entry, error) {
	top := filepath.Base(dir)
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if info.Mode()&0o111 != 0 || strings.HasSuffix(p, ".exe") {
			mode = 0o755
		}
		out = append(out, entry{name: path.Join(top, filepath.ToSlash(rel)), path: p, mode: mode})
		return nil
	})
	return out, err
}

func writeArchive(out, dir string, mtime time.Time) (err error) {
	entries, err := files(dir)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out)
		}
	}()
	switch {
	case strings.HasSuffix(out, ".tar.gz"):
		return writeTarGz(f, entries, mtime)
	case strings.HasSuffix(out, ".zip"):
		return writeZip(f, entries, mtime)
	}
	return fmt.Errorf("%s: want a .tar.gz or .zip name", out)
}

func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		data, err := os.ReadFile(e.path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: e.name, Mode: int64(e.mode), Size: int64(len(data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		data, err := os.ReadFile(e.path)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(e.mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if _, err := fw.Write(data); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
	}
	return zw.Close()
}

// writeSums writes "HASH  NAME" lines, sha256sum's format, so that
// `sha256sum -c SHA256SUMS` (or `shasum -a 256 -c`) checks a download.
func writeSums(out string, names []string) error {
	var b strings.Builder
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), filepath.Base(name))
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}
