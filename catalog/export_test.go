package catalog

// Conflicts returns how many of s's EXECs a concurrent write aborted.
func Conflicts(s *Store) int64 { return s.conflicts.Load() }
