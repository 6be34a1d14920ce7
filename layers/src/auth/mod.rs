//! `AuthLayer`: Basic, Bearer, Digest (RFC 7616) and custom async credentials, scoped to an origin.
