package admin

// translationsCard is the translations card of a page.
type translationsCard struct{}
