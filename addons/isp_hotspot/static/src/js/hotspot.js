/* Captive page: live payment status and the automatic router login. The page works
   without this file (refresh meta tag and buttons). No framework, no third-party host. */
(function () {
    "use strict";
    function poll(box) {
        var url = box.getAttribute("data-url");
        var next = box.getAttribute("data-next");
        var timer = setInterval(function () {
            var xhr = new XMLHttpRequest();
            xhr.open("GET", url);
            xhr.onload = function () {
                var data;
                try {
                    data = JSON.parse(xhr.responseText);
                } catch (e) {
                    return;
                }
                if (data.status && data.status !== "waiting") {
                    clearInterval(timer);
                    window.location.replace(next);
                }
            };
            xhr.send();
        }, 3000);
    }
    document.addEventListener("DOMContentLoaded", function () {
        var box = document.getElementById("hs-wait");
        if (box && box.getAttribute("data-status") === "waiting") {
            poll(box);
        }
        var login = document.getElementById("hs-login");
        if (login && login.getAttribute("data-auto") === "1") {
            login.submit();
        }
        var forms = document.querySelectorAll("form");
        for (var i = 0; i < forms.length; i++) {
            forms[i].addEventListener("submit", function (ev) {
                var button = ev.target.querySelector("button[type=submit]");
                if (button) {
                    setTimeout(function () {
                        button.disabled = true;
                    }, 0);
                }
            });
        }
    });
})();
