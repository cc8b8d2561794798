/**
 * Halo Connector: send each Google Forms response to POST /hooks/google_forms.
 *
 * Install: open the form > ⋮ > Script editor, paste this file, then
 *   1. Project Settings > Script properties: HALO_HOOK_URL = https://connector.example.com/hooks/google_forms
 *      and HALO_HOOK_SECRET = the value of GOOGLE_FORMS_SECRET on the connector (16+ characters);
 *   2. Triggers > Add trigger: onFormSubmit, event source "From form", event type "On form submit".
 * The body is the shape connector/sources/google_forms.py documents; responseId deduplicates.
 */
function onFormSubmit(e) {
  var props = PropertiesService.getScriptProperties();
  var form = FormApp.getActiveForm();
  var response = e.response;
  var answers = response.getItemResponses().map(function (itemResponse) {
    var item = itemResponse.getItem();
    return {
      id: item.getId(),
      title: item.getTitle(),
      type: String(item.getType()),
      response: itemResponse.getResponse()
    };
  });
  var body = {
    formId: form.getId(),
    formTitle: form.getTitle(),
    responseId: response.getId(),
    timestamp: response.getTimestamp().toISOString(),
    respondentEmail: response.getRespondentEmail() || null,
    answers: answers
  };
  var result = UrlFetchApp.fetch(props.getProperty('HALO_HOOK_URL'), {
    method: 'post',
    contentType: 'application/json',
    payload: JSON.stringify(body),
    headers: {'X-Webhook-Token': props.getProperty('HALO_HOOK_SECRET')},
    muteHttpExceptions: true
  });
  if (result.getResponseCode() >= 300) {
    // Apps Script does not retry: fail loudly so the run shows up under Executions.
    throw new Error('Halo Connector answered ' + result.getResponseCode() + ': ' + result.getContentText());
  }
}
