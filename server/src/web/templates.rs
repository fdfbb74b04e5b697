//! What every page's layout needs.

/// The navigation of a logged-in page, with the CSRF token for the logout
/// form. `None` on pages for anonymous visitors.
#[derive(Debug, Clone)]
pub struct Nav {
    pub csrf: String,
}
