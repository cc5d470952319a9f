//! Why a client did not answer. Messages never carry secrets (clients scrub them) nor URLs.

use std::time::Duration;

/// Why a source did not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("{0}")]
    Server(String),
    #[error("unexpected reply: {0}")]
    Decode(String),
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("reply larger than {0} bytes")]
    TooLarge(usize),
}

/// Why a knowledge-base search or description failed, naming what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RagError {
    #[error("the query is empty")]
    EmptyQuery,
    #[error("embeddings: {0}")]
    Embed(String),
    #[error("dimension mismatch: the embedder returned {got} dimensions but {what}")]
    DimensionMismatch { got: usize, want: usize, what: String },
    #[error("the pgvector extension is not installed in database {database:?} (CREATE EXTENSION vector)")]
    ExtensionMissing { database: String },
    #[error("table {table} does not exist in database {database:?} (knowledge_base.table)")]
    TableMissing { table: String, database: String },
    #[error("column {column} does not exist in table {table} (knowledge_base.{key})")]
    ColumnMissing { table: String, column: String, key: String },
    #[error("column {column} is {found}, not a pgvector vector")]
    NotAVector { column: String, found: String },
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    #[error("PostgreSQL: {0}")]
    Database(String),
    #[error("{what} timed out after {ms} ms")]
    Timeout { what: &'static str, ms: u64 },
}
