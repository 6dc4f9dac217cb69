/*
 * GraphiQL's settings for graphene-django's bootstrap script (graphene_django/graphiql.js),
 * which reads them from window.GRAPHENE_SETTINGS. graphene-django's own template sets them in
 * an inline script; here they come from this script tag's data attributes
 * (enrollments/templates/enrollments/graphiql.html), so that the page runs no inline script and
 * its Content-Security-Policy needs no 'unsafe-inline' (config/settings.py).
 */
(function () {
  "use strict";

  var data = document.currentScript.dataset;
  var settings = {
    graphiqlHeaderEditorEnabled: data.headerEditorEnabled === "true",
    graphiqlShouldPersistHeaders: data.shouldPersistHeaders === "true",
    graphiqlInputValueDeprecation: data.inputValueDeprecation === "true"
  };
  if (data.subscriptionPath) {
    settings.subscriptionPath = data.subscriptionPath;
  }
  window.GRAPHENE_SETTINGS = settings;
})();
