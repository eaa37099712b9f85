package catalog

import "github.com/redis/go-redis/v9"

// Redis returns the client the store uses, for the identity registry,
// which shares it.
//
// temporary seam, removed at merge
func (s *Store) Redis() redis.UniversalClient { return s.rdb }
