//! The upload half of the CSV import pages (stakeholders, requests, KPI values): reading
//! the multipart form — a file, or pasted text, the CSRF token and any checkboxes — with a
//! size limit, and the limit of the confirmation form that carries the sealed file back
//! (see [`crate::services::stakeholders::sealed`]).

use std::collections::BTreeSet;

use actix_multipart::Multipart;
use futures_util::TryStreamExt;

use crate::error::AppError;

/// The largest file an import page takes (about 150,000 typical rows).
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;
/// Form fields other than the file (the CSRF token, the checkboxes) are small.
const MAX_FIELD_BYTES: usize = 64 * 1024;
/// The confirmation carries the file base64-encoded (4/3 of its size) plus a few fields.
pub const CONFIRM_LIMIT: usize = MAX_UPLOAD_BYTES / 3 * 4 + 64 * 1024;

/// The fields of an upload form.
#[derive(Default)]
pub struct Upload {
    pub csrf_token: String,
    pub file: Vec<u8>,
    pub file_name: Option<String>,
    /// The pasted text (`csv_text`).
    pub text: String,
    /// The names of the other fields sent with a value (ticked checkboxes).
    checked: BTreeSet<String>,
}

impl Upload {
    /// Whether the checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.checked.contains(name)
    }

    /// The file's bytes and how to name them ("people.csv"), else the pasted text's, else
    /// `None` when neither was given.
    pub fn content(&self) -> Option<(Vec<u8>, String)> {
        if !self.file.is_empty() {
            let name = self.file_name.clone().unwrap_or_else(|| "the file".into());
            Some((self.file.clone(), name))
        } else if !self.text.trim().is_empty() {
            Some((
                self.text.clone().into_bytes(),
                "the pasted text".to_string(),
            ))
        } else {
            None
        }
    }
}

/// Reads the multipart upload, refusing a file over [`MAX_UPLOAD_BYTES`] (413) and saying
/// which command takes larger files (`command`, e.g. `pulse stakeholders import`).
pub async fn read_upload(mut multipart: Multipart, command: &str) -> Result<Upload, AppError> {
    let malformed = |e: actix_multipart::MultipartError| {
        AppError::BadRequest(format!("The upload could not be read: {e}"))
    };
    let mut upload = Upload::default();
    while let Some(mut field) = multipart.try_next().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        let limit = if name == "file" || name == "csv_text" {
            MAX_UPLOAD_BYTES
        } else {
            MAX_FIELD_BYTES
        };
        if name == "file" {
            upload.file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .filter(|n| !n.is_empty())
                .map(str::to_string);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(malformed)? {
            if bytes.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge(format!(
                    "The file is larger than {} MB: split it, or use `{command}`.",
                    MAX_UPLOAD_BYTES / (1024 * 1024)
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => upload.csrf_token = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => upload.file = bytes,
            "csv_text" => upload.text = String::from_utf8_lossy(&bytes).into_owned(),
            _ if !bytes.is_empty() => {
                upload.checked.insert(name);
            }
            _ => {}
        }
    }
    Ok(upload)
}
