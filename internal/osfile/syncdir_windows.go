//go:build windows

package osfile

// SyncDir is a no-op on Windows: a directory cannot be opened for
// flushing there, and NTFS journals its metadata, so a renamed file's name
// is durable with the file system's own commit.
func SyncDir(string) error { return nil }
