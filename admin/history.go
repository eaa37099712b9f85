package admin

// historyCard is the history card of a page.
type historyCard struct{}
