package admin

// previewCard is the preview card of a page.
type previewCard struct{}
