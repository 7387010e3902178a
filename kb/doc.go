// Package kb is the knowledge base: Markdown articles with YAML front
// matter (import, export, validation), chunking by heading structure,
// hybrid keyword + vector retrieval fused by reciprocal rank fusion,
// extractive and LLM-grounded answers with citations, and the evaluation
// that proves retrieval still works.
//
// Article files look like this (keys other than these are rejected):
//
//	---
//	title: How long does delivery take?
//	slug: delivery-times
//	language: en
//	tags: [shipping, delivery]
//	status: published
//	audience: customers
//	queue: shipping
//	skills: [shipping]
//	url: https://help.example.com/delivery-times
//	translation_of: delivery-times   # only on translations, whose own slug differs
//	---
//	Markdown body...
package kb
