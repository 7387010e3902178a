// Package kb is the knowledge base: Markdown articles with YAML front
// matter (import, export, validation), chunking by heading structure,
// embeddings, hybrid keyword + vector retrieval fused by reciprocal rank
// fusion, extractive and LLM-grounded answers with citations, gaps (the
// questions the KB could not answer) and the evaluation that proves
// retrieval still works.
//
// The pieces, in the order a question meets them:
//
//   - Import / Export / Manager: files → article versions (baton.Article)
//     → chunks of the published version, embedded; only what changed is
//     written or embedded again.
//   - Retriever: keyword and vector search of the store, fused by rank;
//     filtered by bot, language and published status; each result keeps
//     both scores. An optional Reranker reorders them.
//   - Answerer: an extractive answer (the best passage trimmed to the
//     sentences that match) or an LLM answer written from the passages
//     only, with a grounded confidence; below the threshold, no answer.
//   - EvalFAQ: recall@1, recall@5, MRR and latency of each method on a FAQ
//     set, plus how often in-KB and out-of-KB questions get an answer.
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
