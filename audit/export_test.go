package audit

import "time"

// SetClock makes l read time from now (tests of the age limit).
func (l *Log) SetClock(now func() time.Time) { l.opts.now = now }
