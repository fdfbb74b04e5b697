//! The aid log's pages.
