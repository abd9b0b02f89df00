package content_test

import (
	"fmt"

	"github.com/lastmile/lastmile/sandbox/content"
)

func ExampleValidate() {
	blocks := []content.Block{
		{Cell: content.Cell{Type: "heading", Text: "Spring sale"}},
		{Cell: content.Cell{Type: "image", Src: "http://cdn.example.com/hero.png"}},
		{Cell: content.Cell{Type: "button", Text: "Shop", URL: "javascript:alert(1)"}},
	}
	for _, p := range content.Validate(blocks) {
		fmt.Println(p.Path + ": " + p.Message)
	}
	// Output:
	// blocks[1].src: image source uses http:// (mixed content; many clients block it)
	// blocks[1].alt: an image needs alt text
	// blocks[2].url: URL uses the javascript: scheme
}

func ExampleRenderEmail() {
	blocks := []content.Block{
		{Cell: content.Cell{Type: "heading", Text: `Hi {{ contact.firstname | default: "there" }}`}},
		{Cell: content.Cell{Type: "paragraph", Text: "Our **spring sale** starts today."}},
		{Cell: content.Cell{Type: "button", Text: "Shop now", URL: "https://shop.example.com/"}},
	}
	theme := content.Theme{Company: "Example Inc.", PostalAddress: "1 Main St, Springfield"}
	_, text := content.RenderEmail(blocks, theme, content.EmailOptions{Footer: true})
	fmt.Print(text)
	// Output:
	// Hi {{ contact.firstname | default: "there" }}
	// =============================================
	//
	// Our spring sale starts today.
	//
	// Shop now: https://shop.example.com/
	//
	// --
	// Example Inc.
	// 1 Main St, Springfield
	//
	// Don't want these emails? Unsubscribe: {{ unsubscribe_url }}
}

func ExampleApplyUTM() {
	doc := `<a href="https://shop.example.com/?id=7#top">Shop</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a>`
	fmt.Println(content.ApplyUTM(doc, content.UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}))
	// Output:
	// <a href="https://shop.example.com/?id=7&amp;utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=spring#top">Shop</a> <a href="{{ unsubscribe_url }}">Unsubscribe</a>
}

func ExampleHTMLToText() {
	fmt.Print(content.HTMLToText(`<h2>Offer</h2><p>Save <b>30%</b> — <a href="https://shop.example.com/">shop now</a>.</p><ul><li>Fast</li><li>Secure</li></ul>`))
	// Output:
	// Offer
	// -----
	//
	// Save 30% — shop now (https://shop.example.com/).
	//
	// - Fast
	// - Secure
}
