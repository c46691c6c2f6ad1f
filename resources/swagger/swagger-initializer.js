// Swagger UI on the API's own OpenAPI document.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Keep the bearer token across page reloads (browser storage only).
    persistAuthorization: true,
    // The default validator badge would call an outside service.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
