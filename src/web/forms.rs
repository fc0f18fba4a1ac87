//! What long forms share: the summary of their problems at the top (each a
//! link to its field), shown by `partials/error_summary.html`.

/// One problem of a submitted form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The `id` of the field it is about (the summary links to `#field`).
    pub field: String,
    /// What is wrong, as shown next to the field.
    pub message: String,
}

impl Problem {
    /// The problems among `(field id, message)` pairs, in their order.
    pub fn list(fields: &[(&str, &Option<String>)]) -> Vec<Self> {
        fields
            .iter()
            .filter_map(|(field, message)| {
                message.as_ref().map(|message| Self {
                    field: (*field).to_owned(),
                    message: message.clone(),
                })
            })
            .collect()
    }
}
